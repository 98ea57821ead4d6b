"""The conversation engine: decisions from (event, session), with the shipped content."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.content.html import check_html
from bot.engine import Engine
from bot.events import (
    ButtonPress,
    Command,
    EndHandoff,
    Feedback,
    ForgetUser,
    LeaveQueue,
    NonText,
    Outcome,
    Reply,
    RequestHandoff,
    TextMessage,
)
from bot.session import Pending, Session


def only_reply(outcome: Outcome) -> Reply:
    assert len(outcome.replies) == 1, outcome.actions
    reply = outcome.replies[0]
    assert check_html(reply.text) == [], reply.text
    assert len(reply.text) < 4096
    return reply


def test_start_welcomes_with_the_regions_crisis_line(engine: Engine) -> None:
    reply = only_reply(engine.handle(Command("start"), Session()))
    assert "988" in reply.text and "911" in reply.text
    assert reply.buttons


def test_crisis_message_gets_crisis_reply_even_while_a_question_is_pending(engine: Engine) -> None:
    session = Session(pending=Pending("confirm", "naloxone", None), fallbacks=1)
    outcome = engine.handle(TextMessage("my friend is not breathing"), session)
    reply = only_reply(outcome)
    assert reply.crisis and "911" in reply.text
    assert outcome.session is not None and outcome.session.pending is None
    assert outcome.intent == "crisis_overdose"


def test_suicide_crisis_reply_gives_the_crisis_line_for_the_region(engine: Engine) -> None:
    reply = only_reply(engine.handle(TextMessage("i want to end my life"), Session(region="uk")))
    assert reply.crisis and "116 123" in reply.text and "999" in reply.text


def test_unsure_match_is_confirmed_and_yes_answers_it(engine: Engine) -> None:
    first = engine.handle(TextMessage("free kits"), Session())
    assert first.session is not None and first.session.pending is not None
    suggested = first.session.pending.intent
    assert suggested is not None
    reply = only_reply(first)
    assert "Yes" in [b.label for b in reply.buttons] and "No" in [b.label for b in reply.buttons]
    second = engine.handle(TextMessage("yeah"), first.session)
    assert second.intent == suggested


def test_no_to_a_confirmation_offers_other_topics(engine: Engine) -> None:
    session = Session(pending=Pending("confirm", "naloxone", "overdose_signs"))
    outcome = engine.handle(ButtonPress("n"), session)
    reply = only_reply(outcome)
    assert "i:overdose_signs" in [b.data for b in reply.buttons]
    assert outcome.session is not None and outcome.session.pending is None


def test_follow_up_button_answers_that_intent(engine: Engine) -> None:
    first = engine.handle(TextMessage("where can i get naloxone"), Session())
    reply = only_reply(first)
    # Follow-ups come first; a "Find a service near me" button may follow them.
    assert reply.buttons and reply.buttons[0].data.startswith("i:")
    target = reply.buttons[0].data[2:]
    assert first.session is not None
    assert engine.handle(ButtonPress(reply.buttons[0].data), first.session).intent == target


def test_tell_me_more_continues_with_the_first_follow_up(engine: Engine, brain: object) -> None:
    first = engine.handle(TextMessage("where can i get naloxone"), Session())
    assert first.session is not None
    expected = only_reply(first).buttons[0].data[2:]
    assert engine.handle(TextMessage("tell me more"), first.session).intent == expected


def test_variants_rotate_without_repeating_the_last_one(engine: Engine) -> None:
    session = Session()
    texts = []
    for _ in range(3):
        outcome = engine.handle(TextMessage("thank you"), session)
        texts.append(only_reply(outcome).text)
        assert outcome.session is not None
        session = outcome.session
    assert texts[0] != texts[1] and texts[1] != texts[2]


def test_second_fallback_in_a_row_offers_a_person_first(engine: Engine) -> None:
    first = engine.handle(TextMessage("whats the capital of australia"), Session())
    assert first.session is not None and first.session.fallbacks == 1
    first_reply = only_reply(first)
    assert first_reply.buttons[-1].data == "i:talk_to_human"
    second = engine.handle(TextMessage("best pizza near me"), first.session)
    assert only_reply(second).buttons[0].data == "i:talk_to_human"


def test_a_match_resets_the_fallback_streak(engine: Engine) -> None:
    outcome = engine.handle(TextMessage("where can i get narcan"), Session(fallbacks=1))
    assert outcome.session is not None and outcome.session.fallbacks == 0


def test_region_command_sets_numbers_used_afterwards(engine: Engine) -> None:
    chosen = engine.handle(Command("region", "uk"), Session())
    assert chosen.session is not None and chosen.session.region == "uk"
    crisis = engine.handle(TextMessage("he wont wake up"), chosen.session)
    assert "999" in only_reply(crisis).text


def test_region_without_argument_shows_every_region_as_a_button(engine: Engine) -> None:
    reply = only_reply(engine.handle(Command("region"), Session()))
    assert {b.data for b in reply.buttons} == {"r:us", "r:ca", "r:uk", "r:ie", "r:au", "r:mx", "r:es"}


def test_forget_asks_first_then_deletes(engine: Engine) -> None:
    asked = engine.handle(Command("forget"), Session(region="ca"))
    assert asked.session is not None and asked.session.pending == Pending("forget")
    assert [b.data for b in only_reply(asked).buttons] == ["f:yes", "f:no"]
    done = engine.handle(ButtonPress("f:yes"), asked.session)
    assert isinstance(done.actions[0], ForgetUser) and done.session is None


def test_forget_can_be_cancelled(engine: Engine) -> None:
    asked = engine.handle(Command("forget"), Session(region="ca"))
    assert asked.session is not None
    kept = engine.handle(ButtonPress("f:no"), asked.session)
    assert kept.session is not None and kept.session.region == "ca"
    assert not any(isinstance(a, ForgetUser) for a in kept.actions)


def test_asking_for_a_person_says_what_to_expect_and_asks_to_confirm(engine: Engine) -> None:
    for event in (
        Command("human"),
        TextMessage("can i talk to a real person"),
        ButtonPress("i:talk_to_human"),
    ):
        outcome = engine.handle(event, Session())
        assert not any(isinstance(a, RequestHandoff) for a in outcome.actions), event
        assert [b.data for b in outcome.replies[0].buttons] == ["h:yes", "h:no"]
        assert outcome.session is not None and outcome.session.pending == Pending("handoff")


@pytest.mark.parametrize("answer", [ButtonPress("h:yes"), TextMessage("yes please")])
def test_confirming_the_handoff_queues_the_person(engine: Engine, answer: ButtonPress | TextMessage) -> None:
    asked = engine.handle(Command("human"), Session())
    assert asked.session is not None
    outcome = engine.handle(answer, asked.session)
    assert outcome.actions == (RequestHandoff(),)
    assert outcome.session is not None and outcome.session.pending is None


@pytest.mark.parametrize("answer", [ButtonPress("h:no"), TextMessage("no")])
def test_declining_the_handoff_keeps_the_bot(engine: Engine, answer: ButtonPress | TextMessage) -> None:
    asked = engine.handle(Command("human"), Session())
    assert asked.session is not None
    outcome = engine.handle(answer, asked.session)
    assert not any(isinstance(a, RequestHandoff) for a in outcome.actions)
    assert "/human" in outcome.replies[0].text


def test_a_stale_handoff_yes_button_does_not_queue(engine: Engine) -> None:
    outcome = engine.handle(ButtonPress("h:yes"), Session())
    assert not any(isinstance(a, RequestHandoff) for a in outcome.actions)


def test_end_command_asks_the_adapter_to_end_the_handoff(engine: Engine) -> None:
    assert engine.handle(Command("end"), Session()).actions == (EndHandoff(),)


@pytest.mark.parametrize(("data", "helpful"), [("fb:y", True), ("fb:n", False)])
def test_feedback_buttons_are_counted_and_thanked(engine: Engine, data: str, helpful: bool) -> None:
    outcome = engine.handle(ButtonPress(data), Session())
    assert outcome.actions[0] == Feedback(helpful)
    assert outcome.replies and "Thank you" in outcome.replies[0].text


def test_leaving_the_queue_is_an_action_and_staying_is_answered(engine: Engine) -> None:
    assert engine.handle(ButtonPress("hw:leave"), Session()).actions == (LeaveQueue(),)
    stay = engine.handle(ButtonPress("hw:stay"), Session())
    assert stay.replies and "line" in stay.replies[0].text


def test_stale_and_forged_buttons_get_a_polite_answer(engine: Engine) -> None:
    for data in ("y", "n", "f:yes", "i:no_such_intent", "r:mars", "zzz", "", "x" * 64):
        reply = only_reply(engine.handle(ButtonPress(data), Session()))
        assert "earlier message" in reply.text


def test_non_text_messages_get_a_kind_reply_with_the_crisis_line(engine: Engine) -> None:
    reply = only_reply(engine.handle(NonText("sticker"), Session()))
    assert "988" in reply.text


def test_empty_or_symbol_only_message_gets_a_nudge(engine: Engine) -> None:
    for text in ("   ", "🙂🙂", "\u200b\x00"):
        reply = only_reply(engine.handle(TextMessage(text), Session()))
        assert reply.text


def test_unknown_command_lists_the_commands(engine: Engine) -> None:
    assert "/help" in only_reply(engine.handle(Command("frobnicate"), Session())).text


def test_html_in_a_message_never_reaches_a_reply(engine: Engine) -> None:
    outcome = engine.handle(TextMessage("<b>narcan</b> <script>x</script> & where"), Session())
    assert "<script>" not in only_reply(outcome).text


def test_session_never_holds_message_text(engine: Engine) -> None:
    secret = "my very unusual sentence about zebras and narcan"
    outcome = engine.handle(TextMessage(secret), Session())
    assert outcome.session is not None
    assert "zebras" not in repr(outcome.session.to_dict())


def test_session_round_trips_through_its_dict_form() -> None:
    session = Session(
        locale="en", region="ie", recent_intents=("naloxone",), pending=Pending("confirm", "a", "b")
    )
    session = replace(session, last_variants=(("naloxone", 1),))
    assert Session.from_dict(session.to_dict()) == session


def test_reload_swaps_content_for_the_next_message(engine: Engine, brain: object) -> None:
    from bot.brain import Brain

    assert isinstance(brain, Brain)
    engine.reload(brain)
    assert engine.brain is brain


@pytest.mark.parametrize("answer", [TextMessage("yes"), ButtonPress("y")])
def test_a_yes_to_a_suggestion_whose_intent_a_reload_removed_gets_a_polite_answer(
    engine: Engine, answer: TextMessage | ButtonPress
) -> None:
    session = Session(pending=Pending("confirm", "an_intent_no_longer_there", None))
    reply = only_reply(engine.handle(answer, session))
    assert reply.text == only_reply(engine.handle(ButtonPress("stale"), Session())).text


def test_crisis_words_after_a_command_get_the_crisis_reply_before_the_command(engine: Engine) -> None:
    outcome = engine.handle(Command("help", "my friend is not breathing"), Session())
    first, help_reply = outcome.replies
    assert first.crisis and "911" in first.text and not help_reply.crisis
    assert help_reply.text == engine.handle(Command("help"), Session()).replies[0].text

    human = engine.handle(Command("human", "i want to kill myself"), Session())
    assert human.replies[0].crisis and "988" in human.replies[0].text
    assert human.session is not None and human.session.pending == Pending("handoff")
    assert human.session.last_intent == "crisis_suicide"
    plain = engine.handle(Command("region", "uk"), Session())
    assert not any(r.crisis for r in plain.replies)


def test_a_crisis_only_the_other_languages_matcher_sees_is_answered_in_the_persons_language(
    engine: Engine,
) -> None:
    english = engine.handle(TextMessage("i have been suicidal since last year"), Session(locale="en"))
    reply = only_reply(english)
    assert reply.crisis and english.intent == "crisis_suicide"
    assert english.session is not None and english.session.locale == "en"
    assert reply.text == only_reply(engine.handle(TextMessage("i want to end my life"), Session())).text

    spanish = engine.handle(TextMessage("quiero matarme"), Session(locale="en"))
    assert only_reply(spanish).crisis
    assert spanish.session is not None and spanish.session.locale == "es"


def test_after_a_crisis_reply_unclear_or_farewell_messages_get_the_crisis_line_again(engine: Engine) -> None:
    crisis = engine.handle(TextMessage("i want to end my life"), Session())
    assert crisis.session is not None
    session = crisis.session
    for text in ("nobody cares", "goodbye forever", "yes", "im scared", "thanks"):
        outcome = engine.handle(TextMessage(text), session)
        reply = only_reply(outcome)
        # crisis_followup, or the shorter crisis_again where the message is itself a risk signal.
        assert reply.text.startswith(("I'm still here with you", "I'm here, and", "I'm here.")), (
            text,
            reply.text,
        )
        assert "988" in reply.text and "911" in reply.text
        assert "i:talk_to_human" in [b.data for b in reply.buttons]
        assert outcome.session is not None
        session = outcome.session
    naloxone = engine.handle(TextMessage("where can i get naloxone"), session)
    assert naloxone.intent == "naloxone", "another topic moves the conversation on"
