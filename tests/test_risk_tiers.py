"""Risk in three tiers: crisis, a direct check-in, or none; and a conversation that remembers risk.

Messages here are dev material (tuned on); the held-out sets in tests/data/test/ are only reported.
"""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.events import ButtonPress, Outcome, Reply, TextMessage
from bot.nlu.sentences import scope, split_pieces
from bot.session import Pending, Session


def reply_of(outcome: Outcome) -> Reply:
    assert outcome.replies, outcome.actions
    return outcome.replies[0]


def button_data(reply: Reply) -> list[str]:
    return [b.data for b in reply.buttons]


@pytest.mark.parametrize(
    "text",
    [
        "honestly whats the point anymore",
        "i relapsed today after eight months. honestly whats the point anymore",
        "i just wish i could go to sleep and not wake up",
        "everyone would be better off without me",
    ],
)
def test_possible_risk_gets_a_direct_check_in_with_the_crisis_line(engine: Engine, text: str) -> None:
    outcome = engine.handle(TextMessage(text), Session())
    reply = reply_of(outcome)
    assert outcome.risk in ("check_in", "crisis")
    assert "988" in reply.text
    if outcome.risk == "check_in":
        assert button_data(reply) == ["ck:yes", "ck:other", "ck:no"]
        assert outcome.session is not None and outcome.session.pending is not None
        assert outcome.session.pending.kind == "check_in"


@pytest.mark.parametrize(
    "text",
    [
        "im not suicidal, just wondering how fentanyl test strips work",
        "i dont want to die from fent, how do i test my stuff",
        "this double shift is killing me lol",
        "what should i do if my friend ods at the party saturday",
    ],
)
def test_negated_and_hypothetical_look_alikes_get_no_crisis_reply(engine: Engine, text: str) -> None:
    outcome = engine.handle(TextMessage(text), Session())
    assert outcome.risk != "crisis"
    assert not any(r.crisis for r in outcome.replies if outcome.risk is None)


def test_a_negated_clause_does_not_hide_a_crisis_in_the_next_one(engine: Engine) -> None:
    outcome = engine.handle(
        TextMessage("im not going to kill myself, i already took all my pills"), Session()
    )
    assert outcome.risk == "crisis" and reply_of(outcome).crisis


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("my heart is pounding and my chest hurts, i did way too much coke", "crisis_stimulant"),
        ("my friend took molly and shes burning up and confused", "crisis_stimulant"),
        ("my grandma took her heart pills twice by accident this morning", "crisis_pills"),
        ("i think i used too much and im alone, everything is getting slow", "crisis_self_overdose"),
    ],
)
def test_each_kind_of_emergency_gets_its_own_crisis_reply(engine: Engine, text: str, kind: str) -> None:
    outcome = engine.handle(TextMessage(text), Session())
    assert outcome.risk == "crisis" and outcome.intent == kind
    reply = reply_of(outcome)
    assert reply.crisis and "911" in reply.text


def check_in_session(topic: str | None = None) -> Session:
    return Session(pending=Pending("check_in", topic))


@pytest.mark.parametrize("answer", ["yeah", "kinda", "maybe", "yes"])
def test_yes_or_unsure_to_the_check_in_gets_the_suicide_crisis_reply_and_a_person(
    engine: Engine, answer: str
) -> None:
    outcome = engine.handle(TextMessage(answer), check_in_session())
    reply = reply_of(outcome)
    assert outcome.intent == "crisis_suicide" and reply.crisis
    assert "i:talk_to_human" in button_data(reply)
    assert outcome.session is not None and outcome.session.at_risk


def test_check_in_button_someone_else_gets_the_emergency_reply(engine: Engine) -> None:
    outcome = engine.handle(ButtonPress("ck:other"), check_in_session())
    assert outcome.intent == "crisis_overdose" and reply_of(outcome).crisis


@pytest.mark.parametrize("answer", ["no im fine", "no", "im ok", "nah"])
def test_no_to_the_check_in_goes_on_and_answers_the_question_they_came_with(
    engine: Engine, answer: str
) -> None:
    outcome = engine.handle(TextMessage(answer), check_in_session(topic="naloxone"))
    assert outcome.risk is None and outcome.intent == "naloxone"
    assert len(outcome.replies) == 2
    assert outcome.session is not None and outcome.session.pending is None and not outcome.session.at_risk


def test_after_a_crisis_reply_a_goodbye_gets_a_caring_close_not_a_cheerful_one(engine: Engine) -> None:
    first = engine.handle(TextMessage("i want to kill myself"), Session())
    assert first.session is not None and first.session.at_risk
    # An ordinary answer in between no longer clears the mark.
    middle = engine.handle(TextMessage("where can i get narcan"), first.session)
    assert middle.intent == "naloxone" and middle.session is not None and middle.session.at_risk
    bye = engine.handle(TextMessage("ok bye"), middle.session)
    reply = reply_of(bye)
    assert "988" in reply.text and "i:talk_to_human" in button_data(reply)


def test_a_new_risk_signal_in_an_at_risk_conversation_gets_the_shorter_crisis_reply(engine: Engine) -> None:
    first = engine.handle(TextMessage("i want to kill myself"), Session())
    assert first.session is not None
    again = engine.handle(TextMessage("i still want to die"), first.session)
    reply = reply_of(again)
    assert again.risk == "crisis" and reply.crisis
    full = reply_of(first)
    assert len(reply.text) < len(full.text) and "988" in reply.text


def test_the_at_risk_mark_survives_the_store(engine: Engine) -> None:
    session = Session(at_risk=True, pending=Pending("check_in", "naloxone"))
    assert Session.from_dict(session.to_dict()) == session


def test_clauses_split_at_commas_and_but() -> None:
    pieces = split_pieces("im not suicidal, but i wish i wouldnt wake up")
    assert [p.negated for p in pieces] == [True, False]


@pytest.mark.parametrize(
    ("text", "negated", "hypothetical"),
    [
        ("i'm not suicidal", True, False),
        ("no soy suicida", True, False),
        ("what if my friend ods", False, True),
        ("que hago si alguien se pasa", False, True),
        ("i want to die", False, False),
    ],
)
def test_scope_words_are_read_once_in_code(text: str, negated: bool, hypothetical: bool) -> None:
    assert scope(text) == (negated, hypothetical)


# The newcomer trial's probes (../shared/reviews/newcomer-trial.md): indirect suicidal thinking and intent
# to overdose that the lexical matcher answered with a fallback or an unrelated topic.
NEWCOMER_PROBES = [
    "honestly whats the point anymore",
    "i just want it all to end",
    "life isnt worth living",
    "i have nothing to live for",
    "i want to disappear",
    "i want it all to stop",
    "i want everything to stop",
    "im so done with everything",
    "i dont see a way out",
    "im a burden to everyone",
    "im going to take everything i have tonight",
    "ive been saving up pills",
    "what if i just use a lot tonight and dont wake up",
    "i hope i overdose",
    "i dont care if i overdose anymore",
    "goodbye everyone, this is my last message",
    "im just so tired of everything",
]
NEWCOMER_PROBES_ES = [
    "adios a todos, este es mi ultimo mensaje",
    "ya no tiene sentido nada",
    "para que sigo",
    "quiero desaparecer",
]


@pytest.mark.parametrize("text", NEWCOMER_PROBES)
def test_the_newcomer_trials_indirect_risk_messages_are_caught(engine: Engine, text: str) -> None:
    outcome = engine.handle(TextMessage(text), Session())
    assert outcome.risk in ("crisis", "check_in"), (text, outcome.intent)
    assert "988" in reply_of(outcome).text


@pytest.mark.parametrize("text", NEWCOMER_PROBES_ES)
def test_the_newcomer_trials_spanish_risk_messages_are_caught(engine: Engine, text: str) -> None:
    outcome = engine.handle(TextMessage(text), Session(locale="es"))
    assert outcome.risk in ("crisis", "check_in"), (text, outcome.intent)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("i'm grieving my friend who overdosed", "grief"),
        ("my friend passed away from fentanyl and i cant stop crying", "grief"),
        ("whats the crisis line number", "crisis_line"),
        ("who do i call if im in crisis", "crisis_line"),
    ],
)
def test_grief_and_the_crisis_line_have_their_own_answers(engine: Engine, text: str, intent: str) -> None:
    outcome = engine.handle(TextMessage(text), Session())
    assert outcome.risk != "crisis"
    assert outcome.intent == intent or (outcome.risk == "check_in" and intent == "grief")


def test_did_you_mean_shows_the_crisis_line_and_emergency_number(engine: Engine) -> None:
    asked = engine.handle(TextMessage("free kits"), Session())
    assert asked.session is not None and asked.session.pending is not None
    assert asked.session.pending.kind == "confirm"
    text = reply_of(asked).text
    assert "988" in text and "911" in text, text


def test_confirm_reply_carries_the_crisis_line_in_every_variant(engine: Engine) -> None:
    for code, locale in engine.brain.content.locales.items():
        for variant in locale.responses["confirm"].variants:
            assert "{crisis_line}" in variant and "{emergency_number}" in variant, code


def test_a_service_and_a_known_place_go_straight_to_the_directory_search(engine: Engine) -> None:
    outcome = engine.handle(TextMessage("methadone clinic in portland"), Session())
    reply = reply_of(outcome)
    assert outcome.intent == "methadone"
    assert "Example Opioid Treatment Program" in reply.text
    assert outcome.session is not None and outcome.session.pending is None


def test_a_long_posts_second_need_is_offered_as_a_button(engine: Engine) -> None:
    text = (
        "hi. i relapsed last night after 3 months and i feel like shit about it. "
        "also is it true that fent test strips work on pills?"
    )
    outcome = engine.handle(TextMessage(text), Session())
    assert outcome.intent == "drug_checking"
    assert reply_of(outcome).buttons[0].data == "i:relapse"


def test_match_json_reports_the_engines_risk_tier(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from bot.cli import main

    for text, risk, crisis in (
        ("i want to kill myself", "crisis", True),
        ("honestly whats the point anymore", "check_in", False),
        ("where can i get narcan", None, False),
    ):
        assert main(["match", "--json", text]) == 0
        decision = json.loads(capsys.readouterr().out)
        assert (decision["risk"], decision["crisis"]) == (risk, crisis), text
    assert main(["match", "--json", "--locale", "es", "quiero morirme"]) == 0
    assert json.loads(capsys.readouterr().out)["risk"] == "crisis"


def test_strike_through_text_still_gets_the_crisis_reply(engine: Engine) -> None:
    outcome = engine.handle(TextMessage("\u0336".join("i want to kill myself") + "\u0336"), Session())
    assert outcome.risk == "crisis" and reply_of(outcome).crisis


def test_means_at_hand_after_a_crisis_reply_gets_the_means_reply(engine: Engine) -> None:
    first = engine.handle(TextMessage("i want to kill myself"), Session())
    assert first.session is not None and first.session.at_risk
    means = engine.handle(TextMessage("the pills are right here in front of me"), first.session)
    reply = reply_of(means)
    assert means.intent == "crisis_means" and reply.crisis and "911" in reply.text
