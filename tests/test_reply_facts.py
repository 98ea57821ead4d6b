"""The content review's facts (issue 14) are in every variant of the non-crisis replies, in en and es."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.brain import Brain
from bot.content.model import PHONE_FRIENDLY_CHARS
from bot.engine import Engine
from bot.events import TextMessage
from bot.session import Session

ROOT = Path(__file__).resolve().parents[1]
# Replies rewritten for the review; each variant must still read well on a phone.
REVIEWED = (
    "naloxone", "overdose_signs", "drug_checking", "safer_use", "mixing_substances", "buprenorphine",
    "methadone", "withdrawal", "health_screening", "wound_care", "good_samaritan",
)  # fmt: skip

# response id -> locale -> words every variant must contain (lower case)
FACTS: dict[str, dict[str, tuple[str, ...]]] = {
    "naloxone": {
        "en": ("room temperature", "expir", "thigh", "30-90 minutes", "side", "new device", "xylazine"),
        "es": (
            "temperatura ambiente",
            "venc",
            "muslo",
            "30-90 minutos",
            "de lado",
            "aparato nuevo",
            "xilacina",
        ),
    },
    "overdose_signs": {
        "en": ("alcohol, benzos or g", "side", "sleep it off", "cool", "seizure", "head", "won't hurt"),
        "es": (
            "alcohol, benzos o ghb",
            "de lado",
            "durmiendo",
            "refréscala",
            "convulsiona",
            "cabeza",
            "no hace daño",
        ),
    },
    "drug_checking": {
        "en": ("more water", "false positive", "nitazenes", "naloxone"),
        "es": ("más agua", "falso positivo", "nitazenos", "naloxona"),
    },
    "safer_use": {
        "en": ("mix", "water", "tolerance"),
        "es": ("mezclar", "agua", "tolerancia"),
    },
    "mixing_substances": {
        "en": ("gabapentin", "pregabalin", "ghb", "naloxone"),
        "es": ("gabapentina", "pregabalina", "ghb", "naloxona"),
    },
    "buprenorphine": {
        "en": ("partial", "precipitated withdrawal"),
        "es": ("parcial", "abstinencia precipitada"),
    },
    "methadone": {
        "en": ("2024", "take-home", "first two weeks", "heart"),
        "es": ("2024", "llevar a casa", "dos primeras semanas", "corazón"),
    },
    "withdrawal": {"en": ("precipitated withdrawal",), "es": ("abstinencia precipitada",)},
    "wound_care": {
        "en": ("soap", "moist", "covered", "don't inject", "fever", "bone", "syringe services"),
        "es": ("jabón", "húmeda", "tapada", "no te inyectes", "fiebre", "hueso", "programas de jeringas"),
    },
    "good_samaritan": {
        "en": ("good samaritan", "{emergency_number}", "naloxone", "can't promise", "/human"),
        "es": ("buen samaritano", "{emergency_number}", "naloxona", "no puedo prometerte", "/human"),
    },
}
# Words the review asked to take out.
GONE: dict[str, dict[str, tuple[str, ...]]] = {
    "overdose_signs": {"en": ("usually in the mix", "usually opioids"), "es": ("casi siempre hay opioides",)},
    "methadone": {"en": ("earn",), "es": ("se ganan",)},
    "health_screening": {"en": ("prevents hiv", "protects you from"), "es": ("previene el vih",)},
}


@pytest.fixture(scope="module")
def brain() -> Brain:
    return Brain.load(ROOT)


def variants(brain: Brain, locale: str, response_id: str) -> tuple[str, ...]:
    return brain.content.locale(locale).responses[response_id].variants


@pytest.mark.parametrize("locale", ["en", "es"])
@pytest.mark.parametrize("response_id", sorted(FACTS))
def test_every_variant_carries_the_reviewed_facts(brain: Brain, locale: str, response_id: str) -> None:
    for text in variants(brain, locale, response_id):
        missing = [w for w in FACTS[response_id][locale] if w not in text.lower()]
        assert missing == [], (response_id, locale, text)


@pytest.mark.parametrize("locale", ["en", "es"])
@pytest.mark.parametrize("response_id", sorted(GONE))
def test_outdated_or_misleading_wording_is_gone(brain: Brain, locale: str, response_id: str) -> None:
    for text in variants(brain, locale, response_id):
        assert not [w for w in GONE[response_id][locale] if w in text.lower()], (response_id, locale)


@pytest.mark.parametrize("locale", ["en", "es"])
def test_reviewed_replies_fit_a_phone_screen(brain: Brain, locale: str) -> None:
    for response_id in REVIEWED:
        for text in variants(brain, locale, response_id):
            assert len(text) <= PHONE_FRIENDLY_CHARS, (response_id, locale, len(text))


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("how do i care for a tranq wound", "en", "wound_care"),
        ("my wound from xylazine is getting worse", "en", "wound_care"),
        ("cómo cuido una herida de xilacina", "es", "wound_care"),
        ("will i get arrested if i call 911 for an overdose", "en", "good_samaritan"),
        ("im scared the police will come if i call an ambulance for my friend", "en", "good_samaritan"),
        ("me pueden arrestar si llamo al 911 por una sobredosis", "es", "good_samaritan"),
        ("free hiv test", "en", "health_screening"),
        ("can i get in trouble for carrying narcan", "en", "naloxone"),
    ],
)
def test_new_topics_are_answered_by_their_own_reply(
    brain: Brain, text: str, locale: str, intent: str
) -> None:
    outcome = Engine(brain).handle(TextMessage(text), Session(locale=locale, region="us"))
    assert outcome.intent == intent, (text, outcome.intent)
    assert not outcome.replies[0].crisis


@pytest.mark.parametrize(("region", "number"), [("us", "911"), ("uk", "999"), ("au", "000")])
def test_good_samaritan_reply_gives_the_regions_emergency_number_and_promises_nothing(
    brain: Brain, region: str, number: str
) -> None:
    text = "will i get arrested if i call for an overdose"
    reply = Engine(brain).handle(TextMessage(text), Session(region=region)).replies[0].text
    assert number in reply and "Good Samaritan" in reply
    assert "you will be protected" not in reply.lower() and "can't promise" in reply
