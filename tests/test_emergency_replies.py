"""The emergency replies: every kind, locale and region gives that region's real numbers, by placeholder.

Routing a message to its kind is the engine's job (tested there); these tests hold the replies themselves
to what a person in an emergency needs, and check the region choices that decide which numbers they see.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.brain import Brain
from bot.content.checks import crisis_response_problems, dialable_numbers, is_crisis_response
from bot.content.html import escape
from bot.content.loader import load_content
from bot.content.model import CRISIS_RESPONSES, LABELS, SYSTEM_RESPONSES, Content, Response
from bot.content.placeholders import fill
from bot.engine import Engine
from bot.errors import ContentError
from bot.events import ButtonPress, Command, TextMessage
from bot.session import Session
from tests.minimal_content import write_minimal_content

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ("en", "es")
REGIONS = ("us", "ca", "uk", "ie", "au", "mx", "es")
# The crisis kinds and the replies around them; crisis_line answers "what's the crisis line number".
EMERGENCY_REPLIES = (*CRISIS_RESPONSES, "crisis_line")
# Each region's emergency number and the digits of its crisis line, as their public sources give them.
REAL_NUMBERS = {
    "us": ("911", "988"),
    "ca": ("911", "988"),
    "uk": ("999", "116 123"),
    "ie": ("112", "116 123"),
    "au": ("000", "13 11 14"),
    "mx": ("911", "800 911 2000"),
    "es": ("112", "024"),
}
# Regions with a poison line to dial; Mexico's is left to "call 911" until a national line is confirmed.
POISON_NUMBERS = {
    "us": "1-800-222-1222",
    "ca": "1-844-764-7669",
    "uk": "111",
    "ie": "01 809 2166",
    "au": "13 11 26",
    "es": "91 562 04 20",
}
# What you would tell someone helping a person who overdosed; never what you tell the person themselves.
BYSTANDER_STEPS = (
    "recovery position",
    "rescue breath",
    "breastbone",
    "try to wake",
    "roll them",
    "stay with them",
    "their side",
    "posición de recuperación",
    "respiraciones de rescate",
    "esternón",
    "intenta despertarla",
    "ponla de lado",
    "quédate con ella",
)
_UNFILLED = re.compile(r"\{[a-z_]+\}")


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content()


def response(content: Content, locale: str, response_id: str) -> Response:
    return content.locale(locale).responses[response_id]


def rendered(content: Content, locale: str, region: str, response_id: str) -> list[str]:
    place = content.region(region).in_locale(locale)
    return [fill(text, place) for text in response(content, locale, response_id).variants]


def test_every_crisis_kind_is_registered_with_the_check_in_buttons() -> None:
    expected = {
        "crisis_overdose",
        "crisis_self_overdose",
        "crisis_stimulant",
        "crisis_depressant",
        "crisis_pills",
        "crisis_suicide",
        "crisis_means",
        "crisis_again",
        "check_in",
        "check_in_ok",
    }
    assert expected == set(CRISIS_RESPONSES) and expected <= set(SYSTEM_RESPONSES)
    assert {"check_in_yes", "check_in_other", "check_in_no"} <= set(LABELS)
    assert all(is_crisis_response(name) for name in expected)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("response_id", EMERGENCY_REPLIES)
def test_emergency_reply_gives_the_regions_real_numbers_and_nothing_unfilled(
    content: Content, locale: str, region: str, response_id: str
) -> None:
    emergency, crisis_digits = REAL_NUMBERS[region]
    place = content.region(region).in_locale(locale)
    assert place.values["emergency_number"].startswith(emergency)
    assert crisis_digits in place.values["crisis_line"]
    for text in rendered(content, locale, region, response_id):
        assert escape(place.values["emergency_number"]) in text
        assert escape(place.values["crisis_line"]) in text
        assert not _UNFILLED.search(text), text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("response_id", (*EMERGENCY_REPLIES, "grief"))
def test_emergency_reply_never_types_a_number_and_reads_on_a_phone(
    content: Content, locale: str, response_id: str
) -> None:
    for text in response(content, locale, response_id).variants:
        assert dialable_numbers(text) == []
        assert len(text) < 900


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("region", REGIONS)
def test_self_overdose_reply_speaks_to_the_person_not_a_bystander(
    content: Content, locale: str, region: str
) -> None:
    for text in rendered(content, locale, region, "crisis_self_overdose"):
        lowered = text.lower()
        assert [step for step in BYSTANDER_STEPS if step in lowered] == []
        assert "naloxon" in lowered
        assert escape(content.region(region).in_locale(locale).values["overdose_line"]) in text


@pytest.mark.parametrize("locale", LOCALES)
def test_self_overdose_reply_gives_never_use_alone_in_the_us_and_nors_in_canada(
    content: Content, locale: str
) -> None:
    assert all("1-800-484-3731" in text for text in rendered(content, locale, "us", "crisis_self_overdose"))
    assert all("1-888-688-6677" in text for text in rendered(content, locale, "ca", "crisis_self_overdose"))


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("region", REGIONS)
def test_pills_reply_carries_the_poison_line_where_the_region_has_one(
    content: Content, locale: str, region: str
) -> None:
    emergency, crisis_digits = REAL_NUMBERS[region]
    for text in rendered(content, locale, region, "crisis_pills"):
        if region in POISON_NUMBERS:
            assert POISON_NUMBERS[region] in text
        else:  # no invented poison number: only the emergency number and the crisis line are dialable
            assert set(dialable_numbers(text)) <= {emergency, crisis_digits}


@pytest.mark.parametrize("locale", LOCALES)
def test_overdose_reply_gives_the_good_samaritan_law_only_where_there_is_one(
    content: Content, locale: str
) -> None:
    law = {"en": "Good Samaritan", "es": "Buen Samaritano"}[locale]
    for region in REGIONS:
        for text in rendered(content, locale, region, "crisis_overdose"):
            assert (law in text) == (region in ("us", "ca")), region


@pytest.mark.parametrize("locale", LOCALES)
def test_suicide_reply_asks_directly_about_safety_and_what_was_taken(content: Content, locale: str) -> None:
    asks = {"en": ("safe", "taken"), "es": ("a salvo", "tomaste")}[locale]
    for text in response(content, locale, "crisis_suicide").variants:
        assert all(word in text for word in asks)
    for text in response(content, locale, "check_in").variants:
        assert "suicid" in text.lower() or "ending your life" in text


@pytest.mark.parametrize("locale", LOCALES)
def test_repeat_crisis_reply_is_shorter_than_the_first(content: Content, locale: str) -> None:
    again = max(len(text) for text in response(content, locale, "crisis_again").variants)
    first = min(len(text) for text in response(content, locale, "crisis_suicide").variants)
    assert again < first / 2


@pytest.mark.parametrize("response_id", ["crisis_pills", "check_in", "crisis_again"])
def test_validate_refuses_an_engine_chosen_crisis_reply_without_the_numbers(response_id: str) -> None:
    content = load_content()
    responses = {locale: {**dict(content.locale(locale).responses)} for locale in content.locales}
    original = responses["es"][response_id]
    responses["es"][response_id] = Response(
        response_id, "es", ("Hola. Llama al 112.",), original.source, original.variant_lines[:1]
    )
    problems = [str(p) for p in crisis_response_problems({}, responses)]
    assert any(f"'{response_id}' (es)" in p and "{emergency_number}" in p for p in problems)
    assert any(f"'{response_id}' (es)" in p and "{crisis_line}" in p for p in problems)
    assert any(f"'{response_id}' (es)" in p and "'112'" in p for p in problems)


def test_validate_names_the_file_of_a_check_in_reply_missing_the_crisis_line(tmp_path: Path) -> None:
    tree = write_minimal_content(tmp_path)
    path = tree / "responses" / "en" / "all.yml"
    text = path.read_text()
    text = text.replace("check_in one. Call {emergency_number}. {suggestion} Crisis line {crisis_line}.", "x")
    path.write_text(text)
    with pytest.raises(ContentError) as raised:
        load_content(tree)
    problem = "'check_in' (en), variant 1, does not give {emergency_number} or {crisis_line}"
    assert problem in str(raised.value)


# ----------------------------------------------------------------------------- regions


@pytest.mark.parametrize(
    ("code", "locale", "name", "emergency", "crisis"),
    [
        ("mx", "en", "Mexico", "911", "800 911 2000"),
        ("mx", "es", "México", "911", "800 911 2000"),
        ("es", "en", "Spain", "112", "024"),
        ("es", "es", "España", "112", "024"),
    ],
)
def test_region_command_for_mexico_and_spain_sets_their_numbers(
    brain: Brain, code: str, locale: str, name: str, emergency: str, crisis: str
) -> None:
    engine = Engine(brain)
    chosen = engine.handle(Command("region", code), Session(locale=locale))
    assert chosen.session is not None and chosen.session.region == code
    assert name in chosen.replies[0].text
    resources = engine.handle(Command("resources"), chosen.session).replies[0].text
    assert emergency in resources and crisis in resources
    urgent = {"en": "my friend is not breathing", "es": "mi amigo no respira"}[locale]
    answer = engine.handle(TextMessage(urgent), chosen.session).replies[0]
    assert answer.crisis and emergency in answer.text and crisis in answer.text


def test_region_buttons_offer_mexico_and_spain_in_both_languages(brain: Brain) -> None:
    engine = Engine(brain)
    for locale, names in (("en", {"Mexico", "Spain"}), ("es", {"México", "España"})):
        buttons = engine.handle(Command("region"), Session(locale=locale)).replies[0].buttons
        assert names <= {b.label for b in buttons}
    pressed = engine.handle(ButtonPress("r:es"), Session(locale="es"))
    assert pressed.session is not None and pressed.session.region == "es"


@pytest.mark.parametrize(
    ("language_code", "region"),
    [
        ("es-MX", "mx"),
        ("es-mx", "mx"),
        ("es_MX", "mx"),
        ("es-ES", "es"),
        ("en-GB", "uk"),
        ("en-CA", "ca"),
        ("es-US", "us"),
        ("es", None),  # a bare language names no country
        ("es-AR", None),  # a country we have no numbers for: the default region stays
        ("zh-hans", None),
        ("", None),
        (None, None),
    ],
)
def test_telegram_language_code_hints_the_region(
    content: Content, language_code: str | None, region: str | None
) -> None:
    assert content.region_for_language(language_code) == region


def test_welcome_says_which_country_the_numbers_are_for(brain: Brain) -> None:
    engine = Engine(brain)
    for locale, name in (("en", "Spain"), ("es", "España")):
        welcome = engine.handle(Command("start"), Session(locale=locale, region="es")).replies[0].text
        assert name in welcome and "112" in welcome and "/region" in welcome


def test_closed_hours_message_never_calls_an_office_hours_line_open_now(content: Content) -> None:
    for locale in LOCALES:
        for response_id in ("handoff_closed_hours", "handoff_not_available"):
            for text in response(content, locale, response_id).variants:
                assert "open now" not in text and "abiertos" not in text
    ireland = content.region("ie")
    assert "Monday to Friday" in ireland.values["treatment_helpline"]
    assert "lunes a viernes" in ireland.in_locale("es").values["treatment_helpline"]


# ----------------------------------------------------------------------------- evaluation data


def test_emergency_kinds_data_has_eight_messages_per_kind_and_locale() -> None:
    data = yaml.safe_load((ROOT / "tests" / "data" / "emergency_kinds.yaml").read_text())
    kinds = (
        "crisis_overdose",
        "crisis_self_overdose",
        "crisis_stimulant",
        "crisis_depressant",
        "crisis_pills",
        "crisis_suicide",
    )
    counts: dict[tuple[str, str], int] = {}
    for message in data["messages"]:
        assert set(message) == {"text", "intent", "locale"} and message["text"].strip()
        key = (message["intent"], message["locale"])
        counts[key] = counts.get(key, 0) + 1
    assert counts == {(kind, locale): 8 for kind in kinds for locale in LOCALES}
    texts = [m["text"].lower() for m in data["messages"]]
    assert len(texts) == len(set(texts))
