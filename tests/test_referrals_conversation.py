"""The conversation around "Find a service near me": the button, the place question, answers and privacy."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.brain import Brain
from bot.engine import Engine
from bot.events import ButtonPress, Event, Location, Outcome, Reply, TextMessage
from bot.referrals.loader import load_directory
from bot.referrals.model import Directory
from bot.session import Pending, Session

# Monday 3 June 2024, 15:00 UTC: 10:00 in Chicago, 08:00 in Portland, 16:00 in Manchester.
NOW = datetime(2024, 6, 3, 15, 0, tzinfo=UTC)

FIVE_IN_TESTFORD = "timezone: Europe/London\nservices:\n" + "".join(
    f"""  - name: Testford Service {n}
    kinds: [naloxone]
    region: uk
    city: Testford
    address: {n} Test Street
    coordinates: [51.50{n}, -0.12]
"""
    for n in range(1, 6)
)


@pytest.fixture
def engine(brain: Brain) -> Engine:
    return Engine(brain, clock=lambda: NOW)


def engine_with(brain: Brain, directory: Directory) -> Engine:
    return Engine(replace(brain, directory=directory), clock=lambda: NOW)


def directory_from(tmp_path: Path, text: str) -> Directory:
    (tmp_path / "services").mkdir()
    (tmp_path / "services" / "test.yml").write_text(text)
    directory, problems = load_directory(tmp_path)
    assert problems == []
    return directory


def reply(outcome: Outcome) -> Reply:
    [only] = outcome.replies
    return only


def data(outcome: Outcome) -> list[str]:
    return [b.data for b in reply(outcome).buttons]


class Talk:
    """A conversation with one engine, carrying the session from turn to turn."""

    def __init__(self, engine: Engine, session: Session | None = None) -> None:
        self.engine = engine
        self.session = session or Session()

    def __call__(self, event: Event) -> Outcome:
        outcome = self.engine.handle(event, self.session)
        assert outcome.session is not None
        self.session = outcome.session
        return outcome

    def ask_place_for(self, text: str) -> Outcome:
        """Send `text`, then press its "Find a service near me" button."""
        answer = self(TextMessage(text))
        [find] = [d for d in data(answer) if d.startswith("p:")]
        return self(ButtonPress(find))


def test_find_button_appears_only_when_the_directory_has_that_kind(brain: Brain, tmp_path: Path) -> None:
    only_naloxone = engine_with(brain, directory_from(tmp_path, FIVE_IN_TESTFORD))
    naloxone = only_naloxone.handle(TextMessage("where can i get naloxone"), Session())
    assert "p:naloxone" in data(naloxone)
    assert "📍 Find a service near me" in [b.label for b in reply(naloxone).buttons]
    methadone = only_naloxone.handle(TextMessage("how does methadone work"), Session())
    assert methadone.intent == "methadone" and not any(d.startswith("p:") for d in data(methadone))
    empty = engine_with(brain, Directory())
    assert not any(
        d.startswith("p:") for d in data(empty.handle(TextMessage("where can i get naloxone"), Session()))
    )


def test_intents_without_service_kinds_never_offer_the_button(engine: Engine) -> None:
    outcome = engine.handle(TextMessage("what are the signs of an overdose"), Session())
    assert outcome.intent == "overdose_signs" and not any(d.startswith("p:") for d in data(outcome))


def test_find_button_asks_for_a_place_with_skip_and_says_once_that_the_place_is_not_kept(
    engine: Engine,
) -> None:
    talk = Talk(engine)
    ask = talk.ask_place_for("where can i get naloxone")
    assert "city" in reply(ask).text and "postcode" in reply(ask).text and "location" in reply(ask).text
    assert "used for this answer only" in reply(ask).text
    assert data(ask) == ["ps"]
    assert talk.session.pending == Pending("place", "naloxone")
    assert talk.session.place_notice_shown
    again = talk.ask_place_for("where can i get naloxone")
    assert "used for this answer only" not in reply(again).text


def test_typed_city_with_a_typo_lists_that_citys_services_of_the_wanted_kind(engine: Engine) -> None:
    talk = Talk(engine)
    talk.ask_place_for("where can i get naloxone")
    answer = talk(TextMessage("chicgo"))
    text = reply(answer).text
    assert text.startswith("<b>Here's what I found near there:</b>")
    assert "Example Community Wellness Center" in text and "Example Night Outreach" in text
    assert "Example Recovery Medicine Clinic" not in text  # no naloxone there
    assert "🟢 Open now, until 17:00" in text  # 10:00 in Chicago on a Monday
    assert talk.session.pending is None


def test_postcode_is_answered_with_that_areas_services(engine: Engine) -> None:
    talk = Talk(engine)
    talk.ask_place_for("where can i get naloxone")
    text = reply(talk(TextMessage("M1 4BT"))).text
    assert "Example Needle and Syringe Programme" in text and "Example Drug Checking Service" in text
    assert "Portland" not in text and "Chicago" not in text


def test_place_with_nothing_listed_says_so_and_gives_national_locators(engine: Engine, brain: Brain) -> None:
    talk = Talk(engine)
    talk.ask_place_for("how do i find treatment")
    text = reply(talk(TextMessage("Springfield"))).text
    assert "couldn't find" in text
    us = brain.content.region("us").values
    assert us["treatment_finder"] in text and us["treatment_helpline"] in text
    assert talk.session.pending is None


@pytest.mark.parametrize(
    "event", [ButtonPress("ps"), TextMessage("skip"), TextMessage("no thanks"), TextMessage("Cancel")]
)
def test_skip_path_gives_ways_to_search_and_clears_the_question(
    engine: Engine, brain: Brain, event: Event
) -> None:
    talk = Talk(engine)
    talk.ask_place_for("where can i get naloxone")
    text = reply(talk(event)).text
    assert text.startswith("No problem.")
    assert brain.content.region("us").values["treatment_finder"] in text
    assert talk.session.pending is None


def test_crisis_during_the_place_question_still_gets_the_crisis_reply(engine: Engine) -> None:
    talk = Talk(engine)
    talk.ask_place_for("where can i get naloxone")
    outcome = talk(TextMessage("my friend is not breathing and wont wake up"))
    assert outcome.intent == "crisis_overdose" and reply(outcome).crisis
    assert talk.session.pending is None


def test_a_clear_other_question_is_answered_not_taken_as_a_place(engine: Engine) -> None:
    talk = Talk(engine)
    talk.ask_place_for("where can i get naloxone")
    outcome = talk(TextMessage("what are the signs of an overdose"))
    assert outcome.intent == "overdose_signs"
    assert talk.session.pending is None


def test_shared_location_lists_nearest_first_and_more_asks_for_the_place_again(
    brain: Brain, tmp_path: Path
) -> None:
    talk = Talk(engine_with(brain, directory_from(tmp_path, FIVE_IN_TESTFORD)))
    talk.ask_place_for("where can i get naloxone")
    first = talk(Location(51.5048, -0.12))  # nearest 5, then 4, then 3
    text = reply(first).text
    shown = [n for n in range(1, 6) if f"Testford Service {n}" in text]
    assert shown == [3, 4, 5]
    assert text.index("Service 5") < text.index("Service 4") < text.index("Service 3")  # nearest first
    assert "km" in text and data(first) == ["pm:naloxone:3"]
    assert talk.session.pending is None  # nothing about the place is kept for "More"
    again = talk(ButtonPress("pm:naloxone:3"))
    assert "didn't keep the place" in reply(again).text
    assert talk.session.pending == Pending("place", "naloxone", offset=3)
    rest = reply(talk(Location(51.5048, -0.12))).text
    assert [n for n in range(1, 6) if f"Testford Service {n}" in rest] == [1, 2]
    assert talk.session.pending is None


def test_location_sent_without_a_question_searches_every_kind_and_gives_the_notice(engine: Engine) -> None:
    talk = Talk(engine)
    text = reply(talk(Location(53.4808, -2.2426))).text  # Manchester centre
    assert "Example Needle and Syringe Programme" in text
    assert "used for this answer only" in text and talk.session.place_notice_shown


def test_session_and_its_stored_form_never_hold_the_place(engine: Engine) -> None:
    talk = Talk(engine)
    talk.ask_place_for("where can i get naloxone")
    talk(TextMessage("Chicgo"))
    talk.ask_place_for("where can i get naloxone")
    talk(Location(41.9031, -87.6771))
    stored = json.dumps(talk.session.to_dict()).lower()
    assert "chic" not in stored and "41.90" not in stored and "87.67" not in stored
    assert Session.from_dict(json.loads(stored)) == talk.session


def test_pending_place_with_offset_survives_the_store_round_trip() -> None:
    session = Session(pending=Pending("place", "naloxone", offset=3), place_notice_shown=True)
    assert Session.from_dict(json.loads(json.dumps(session.to_dict()))) == session


def test_stale_find_button_for_an_unknown_intent_is_answered_politely(engine: Engine) -> None:
    outcome = engine.handle(ButtonPress("p:no_such_intent"), Session())
    assert "p:" not in " ".join(data(outcome)) and outcome.session is not None
