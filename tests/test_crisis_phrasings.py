"""Crisis phrasings a reviewer found missed, with natural variants, and the look-alike questions that
must still get an ordinary answer. Each message is sent to the real engine in a fresh session."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.events import Outcome, TextMessage
from bot.session import Session

PAST_TENSE_OVERDOSE = [
    "i just took 30 pills",
    "i took all my pills",
    "i swallowed all my meds",
    "me tome todas las pastillas",
    "me trague todo el frasco",
    # variants
    "i just swallowed a whole bottle of tylenol",
    "i took like 40 pills",
    "i took 30 pills what is going to happen",
    "i popped all my xans",
    "me acabo de tomar 20 pastillas",
    "me trague todas mis pastillas",
]

WISH_TO_DIE_IN_SPANISH = [
    "quiero morir",
    "tengo ganas de morir",
    "solo quiero morir",
    "me dan ganas de morir",
]

METHODS_AND_SLANG = [
    "i want to overdose",
    "i want to hang myself",
    "i am going to jump off a bridge",
    "me quiero tirar de un puente",
    "kms",
    "i want to unalive myself",
    "i have a gun and i want to end it",
    "i have a gun and i want to die",
    "me corto",
    # variants
    "i wanna overdose",
    "i wanna kms",
    "thinking about shooting myself",
    "im gonna jump in front of a train",
    "i want to throw myself off the roof",
    "me voy a tirar del puente",
    "tengo una pistola para matarme",
    "me sigo cortando",
    "me corto para sentir algo",
    "i started cutting again",
]

VETOED_BY_BROAD_GUARDS = [
    "my friend overdosed and i dont know what to do",
    "i took too much fent and i dont know what to do",
    "why is he not breathing",
    "what is wrong with him he wont wake up",
    "when i shake him he wont wake up",
    "my friend overdosed what is narcan",
    "me muero por dentro, ya no quiero vivir",
    "no se que hacer si no respira",
    "ive felt like ending it all for the past month",
    "hace tiempo que pienso en el suicidio",
    "i dont want to wake up im so tired of living",
    # variants
    "my boyfriend overdosed im not sure what to do",
    "why isnt he breathing",
    "mi amigo tuvo una sobredosis que es el narcan",
    "me muero de tristeza ya no quiero vivir",
    "for the past year ive wanted to die",
    "desde hace meses quiero morirme",
]

ELONGATED = [
    "i want to killll myself",
    "i want to killllll myselfffff",
    "hes stilllll not breathing",
    "quiero matarmeee",
]

# A crisis phrase at the end of a message that NFKC lengthens ("…" becomes "..."): 2,831 characters.
LONG_MESSAGES = [
    "ok\u2026 " * 700 + "he is not breathing please help",
    "\ufdfa" * (4096 - len(" he is not breathing")) + " he is not breathing",
]

CRISIS_MESSAGES = (
    PAST_TENSE_OVERDOSE + WISH_TO_DIE_IN_SPANISH + METHODS_AND_SLANG + VETOED_BY_BROAD_GUARDS + ELONGATED
)

LOOK_ALIKES = [
    "what to do if someone overdoses",
    "what are signs of an overdose",
    "how much water should i drink on mdma",
    "i took my methadone this morning",
    "is it safe to take 2 pills of ecstasy",
    "my dog ate a pill",
    "how do i hang a naloxone poster",
    "jump start my car",
    "que hacer si alguien tiene una sobredosis",
    "cuales son los sintomas de una sobredosis",
    # near the new patterns
    "que sintomas tiene una sobredosis de opioides",
    "i have a gun",
    "i dont want to overdose on fent, how do i test my dope",
    "i took all my meds as prescribed",
    "i took 12 pills of tramadol a day for years",
    "we took a whole pack of test strips to the festival",
    "i walked 5 kms today",
    "the clinic is a few kms away",
    "i shot myself up in the arm and its swollen",
    "we are going to bungee jump off a bridge",
    "i jumped off a bridge into the river as a kid",
    "tired of living paycheck to paycheck",
    "what if i took too much by accident",
    "my friend overdosed 2 years ago what is narcan",
    "i dont know what to do about my cravings",
    "me tome todas mis pastillas como me dijo el doctor",
    "no quiero morir de sobredosis como mi primo",
    "me corto el pelo manana",
    "mi novio me corto la llamada",
    "me corte con un cuchillo cocinando",
    "me voy a tirar a la piscina",
    "me quiero morir de la risa",
    "hace tiempo que no pienso en el suicidio",
    "hace tiempo quise matarme pero ya no",
    "estoy harta de vivir con mis papas",
    "como no envenenarme con fentanilo",
]


def first_reply_is_crisis(outcome: Outcome) -> bool:
    # Any kind of emergency counts (each has its own reply); a check-in does not.
    return bool(outcome.replies) and outcome.replies[0].crisis and outcome.risk == "crisis"


@pytest.mark.parametrize("text", CRISIS_MESSAGES)
def test_crisis_phrasing_gets_the_crisis_reply(engine: Engine, text: str) -> None:
    outcome = engine.handle(TextMessage(text), Session())
    assert first_reply_is_crisis(outcome), (outcome.intent, outcome.match)


@pytest.mark.parametrize("text", CRISIS_MESSAGES)
def test_crisis_phrasing_gets_the_crisis_reply_in_a_session_of_the_other_language(
    engine: Engine, text: str
) -> None:
    outcome = engine.handle(TextMessage(text), Session(locale="es"))
    assert first_reply_is_crisis(outcome), (outcome.intent, outcome.match)


@pytest.mark.parametrize("text", LONG_MESSAGES, ids=["nfkc-ellipses", "nfkc-ligatures"])
def test_crisis_phrase_at_the_end_of_a_long_message_gets_the_crisis_reply(engine: Engine, text: str) -> None:
    assert len(text) <= 4096  # Telegram's limit
    outcome = engine.handle(TextMessage(text), Session())
    assert first_reply_is_crisis(outcome), (outcome.intent, outcome.match)


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alike_harm_reduction_message_gets_no_crisis_reply(engine: Engine, text: str) -> None:
    outcome = engine.handle(TextMessage(text), Session())
    # A direct check-in ("are you safe?") is allowed where the words are close; the emergency script is not.
    assert outcome.risk != "crisis", (outcome.intent, outcome.match)
