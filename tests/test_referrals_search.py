"""Search by city (typos forgiven), postcode and shared location; open-now from hours and time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.brain import Brain
from bot.content.model import SourceRef
from bot.hours import HoursError, OpenStatus, WeeklyHours, parse_day
from bot.referrals.card import ReferralTexts, referral_card, service_block
from bot.referrals.model import Directory, Service
from bot.referrals.search import Found, at_place, haversine_km, near_location
from tests.example_directory import example_directory

REPO = Path(__file__).resolve().parents[1]
EXAMPLE: Directory = example_directory()
ANY: frozenset[str] = frozenset()
# Monday 3 June 2024 (summer time in Portland, Chicago and Manchester).
MONDAY = datetime(2024, 6, 3, tzinfo=UTC)
PORTLAND = ZoneInfo("America/Los_Angeles")


def names(found: list[Found]) -> list[str]:
    return [f.service.name for f in found]


def service(name: str) -> Service:
    return next(s for s in EXAMPLE.services if s.name == name)


def at(day: int, hour: int, minute: int = 0, zone: str = "UTC") -> datetime:
    """A moment in the week of MONDAY (day 0 = Monday) on the wall clock of `zone`."""
    local = datetime(2024, 6, 3 + day, hour, minute, tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


# ----------------------------------------------------------------------------- places


@pytest.mark.parametrize(
    "typed", ["Portland", "portland", "Portlnd", "portand", "I'm in Portland", "PORTLAND OR"]
)
def test_city_with_typos_or_words_around_it_finds_that_citys_services(typed: str) -> None:
    found = at_place(EXAMPLE, ANY, typed)
    assert found and {f.service.city for f in found} == {"Portland"}


@pytest.mark.parametrize(
    ("typed", "city"), [("manchster", "Manchester"), ("Manchestre", "Manchester"), ("chicgo", "Chicago")]
)
def test_other_cities_with_typos(typed: str, city: str) -> None:
    assert {f.service.city for f in at_place(EXAMPLE, ANY, typed)} == {city}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("M1 4BT", ["Example Drug Checking Service", "Example Needle and Syringe Programme"]),
        ("m14bt", ["Example Drug Checking Service", "Example Needle and Syringe Programme"]),
        ("M4", ["Example Needle and Syringe Programme", "Example Peer Recovery Cafe"]),
        ("97205", ["Example Harm Reduction Drop-in"]),
        ("60622", ["Example Community Wellness Center"]),
    ],
)
def test_postcode_or_postcode_area_matches_the_areas_services(typed: str, expected: list[str]) -> None:
    assert names(at_place(EXAMPLE, ANY, typed)) == expected


def test_a_different_outward_code_does_not_match_a_shorter_area() -> None:
    assert at_place(EXAMPLE, ANY, "M14 5AA") == []


@pytest.mark.parametrize("typed", ["Springfield", "Atlantis", "90210", "x", ""])
def test_places_not_in_the_directory_find_nothing(typed: str) -> None:
    assert at_place(EXAMPLE, ANY, typed) == []


def test_kind_filter_keeps_only_services_offering_a_wanted_kind() -> None:
    found = at_place(EXAMPLE, frozenset({"methadone"}), "Chicago")
    assert names(found) == ["Example Recovery Medicine Clinic"]
    assert at_place(EXAMPLE, frozenset({"drug_checking"}), "Chicago") == []


def test_haversine_distance_matches_a_known_figure() -> None:
    # Manchester to Chicago is about 6,100 km as the crow flies.
    assert 6000 < haversine_km((53.4808, -2.2426), (41.8781, -87.6298)) < 6200
    assert haversine_km((45.5, -122.6), (45.5, -122.6)) == 0


def test_location_lists_nearest_first_with_distances() -> None:
    # Near the Portland testing van, north of the centre.
    found = near_location(EXAMPLE, frozenset({"testing"}), 45.5690, -122.6790)
    assert names(found) == ["Example Testing Van", "Example Bridge Clinic"]
    distances = [f.distance_km or 0.0 for f in found]
    assert distances == sorted(distances) and distances[0] < 0.5


def test_location_far_from_every_service_finds_nothing() -> None:
    assert near_location(EXAMPLE, ANY, 52.52, 13.405) == []  # Berlin


# ----------------------------------------------------------------------------- hours


def test_day_ranges_parse_including_past_midnight_and_closed() -> None:
    [first, late] = parse_day("10:00-18:00, 20:00-02:00")
    assert (first.start, first.end, first.crosses_midnight) == (time(10), time(18), False)
    assert late.crosses_midnight
    assert parse_day("closed") == ()
    assert parse_day("00:00-24:00")[0].crosses_midnight


@pytest.mark.parametrize(
    "text",
    ["9-5", "09:00 to 17:00", "25:00-26:00", "24:00-02:00", "09:60-10:00", "24:30-25:00", "09:00-24:30"],
)
def test_unreadable_day_ranges_raise(text: str) -> None:
    with pytest.raises(HoursError):
        parse_day(text)


def test_open_now_uses_the_services_time_zone() -> None:
    drop_in = service("Example Harm Reduction Drop-in")  # Portland, Mon 10:00-18:00
    assert drop_in.hours is not None
    # 17:30 UTC is 10:30 in Portland (and already 18:30 in Manchester).
    status = drop_in.hours.status(at(0, 17, 30))
    assert status.open_now and status.closes == datetime(2024, 6, 3, 18, 0, tzinfo=PORTLAND)
    # 16:30 UTC is 09:30 in Portland: closed, opening at 10:00 that day.
    status = drop_in.hours.status(at(0, 16, 30))
    assert not status.open_now and status.next_opening == datetime(2024, 6, 3, 10, 0, tzinfo=PORTLAND)


def test_range_past_midnight_is_open_after_midnight_on_the_next_weekday() -> None:
    drop_in = service("Example Harm Reduction Drop-in")  # Fri "10:00-18:00, 20:00-02:00", Sat 12-16
    assert drop_in.hours is not None
    late = drop_in.hours.status(at(5, 1, 30, "America/Los_Angeles"))  # Saturday 01:30
    assert late.open_now and late.closes == datetime(2024, 6, 8, 2, 0, tzinfo=PORTLAND)
    after = drop_in.hours.status(at(5, 2, 0, "America/Los_Angeles"))  # Saturday 02:00: just closed
    assert not after.open_now and after.next_opening == datetime(2024, 6, 8, 12, 0, tzinfo=PORTLAND)


def test_sunday_night_range_rolls_over_into_monday() -> None:
    hours = WeeklyHours(ZoneInfo("Europe/London"), ((),) * 6 + (parse_day("22:00-03:00"),))
    monday_early = datetime(2024, 6, 10, 1, 0, tzinfo=ZoneInfo("Europe/London"))
    assert hours.is_open(monday_early)
    monday_noon = datetime(2024, 6, 10, 12, 0, tzinfo=ZoneInfo("Europe/London"))
    assert hours.next_opening(monday_noon) == datetime(2024, 6, 16, 22, 0, tzinfo=ZoneInfo("Europe/London"))


def test_closed_every_day_has_no_next_opening() -> None:
    hours = WeeklyHours(ZoneInfo("UTC"), ((),) * 7)
    assert hours.status(MONDAY) == OpenStatus(False)


# ----------------------------------------------------------------------------- rendering


def texts(brain: Brain) -> ReferralTexts:
    locale = brain.content.locale("en")
    return ReferralTexts(locale, locale, brain.content.region("us"))


def test_service_block_shows_offer_status_address_and_contacts(brain: Brain) -> None:
    drop_in = service("Example Harm Reduction Drop-in")
    block = service_block(Found(drop_in, 1.234), texts(brain), at(0, 17, 30), frozenset({"drug_checking"}))
    lines = block.splitlines()
    assert lines[0] == "<b>Example Harm Reduction Drop-in</b>"
    assert (
        lines[1] == "<i>drug checking, naloxone, syringe services, peer support</i>"
    )  # asked-for kind first
    assert lines[2] == "🟢 Open now, until 18:00"
    assert lines[3] == "100 Example Street, Portland · about 1.2 km (0.8 mi) away"
    assert "+1 503-555-0101" in lines
    assert '<a href="https://example.org/portland-drop-in">example.org/portland-drop-in</a>' in lines
    assert "Walk in, no appointment needed · Cost: Free · Languages: English, Spanish" in lines


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (at(0, 9, 0, "America/Los_Angeles"), "⚪ Closed now, opens today at 10:00"),
        (at(6, 11, 0, "America/Los_Angeles"), "⚪ Closed now, opens tomorrow at 10:00"),
        (at(5, 17, 0, "America/Los_Angeles"), "⚪ Closed now, opens Monday at 10:00"),
    ],
)
def test_closed_service_says_when_it_opens_next(brain: Brain, moment: datetime, expected: str) -> None:
    block = service_block(Found(service("Example Harm Reduction Drop-in")), texts(brain), moment)
    assert block.splitlines()[2] == expected


def test_service_without_hours_says_to_call_ahead(brain: Brain) -> None:
    plain = Service("No Hours Place", ("food",), "us", "Testford", "1 Test St", SourceRef("t", 1))
    assert "Hours not listed" in service_block(Found(plain), texts(brain), MONDAY)


def test_names_from_the_directory_are_escaped(brain: Brain) -> None:
    odd = Service("Bits & <Pieces>", ("food",), "us", "Testford", "1 <Test> St", SourceRef("t", 1))
    block = service_block(Found(odd), texts(brain), MONDAY)
    assert "<b>Bits &amp; &lt;Pieces&gt;</b>" in block and "1 &lt;Test&gt; St" in block


def test_referral_card_for_supporters_lists_the_best_three_or_the_national_locators(brain: Brain) -> None:
    locale, region = brain.content.locale("en"), brain.content.region("us")
    card = referral_card(EXAMPLE, "naloxone", "Chicgo", locale, locale, region, at(0, 15))
    assert card.startswith("<b>Here's what I found near there:</b>")
    assert card.count("<b>Example ") == 2  # Chicago's two naloxone services
    none = referral_card(EXAMPLE, "methadone", "Springfield", locale, locale, region, at(0, 15))
    assert "FindTreatment.gov" in none and "Example" not in none
