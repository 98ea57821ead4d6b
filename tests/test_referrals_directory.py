"""The services directory: the shipped example loads, and each kind of mistake is named with file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.brain import Brain
from bot.cli import main
from bot.errors import ContentError, ContentProblem
from bot.referrals.loader import load_directory, plausible_phone
from bot.referrals.model import SERVICE_KINDS
from tests.example_directory import EXAMPLE_FILE, example_directory
from tests.minimal_content import write_minimal_content

REPO = Path(__file__).resolve().parents[1]

GOOD = """\
timezone: Europe/London
services:
  - name: Test Drop-in
    kinds: [naloxone]
    region: uk
    city: Testford
    address: 1 Test Street
"""


def problems_for(tmp_path: Path, text: str) -> list[ContentProblem]:
    (tmp_path / "services").mkdir(exist_ok=True)
    (tmp_path / "services" / "test.yml").write_text(text)
    return load_directory(tmp_path, regions=["us", "uk"])[1]


def only_problem(tmp_path: Path, text: str) -> ContentProblem:
    problems = problems_for(tmp_path, text)
    assert len(problems) == 1, problems
    assert problems[0].file == "services/test.yml"
    return problems[0]


def test_shipped_example_directory_loads_without_problems_and_covers_every_kind() -> None:
    directory = example_directory()
    assert 10 <= len(directory.services) <= 15
    assert directory.kinds == frozenset(SERVICE_KINDS)
    assert len({s.city for s in directory.services}) == 3
    assert all(s.name.startswith("Example ") and "EXAMPLE ONLY" in s.note for s in directory.services)


def test_example_file_says_it_is_an_example_at_the_top() -> None:
    head = EXAMPLE_FILE.read_text().splitlines()[:4]
    assert any("EXAMPLE DIRECTORY" in line and "FICTIONAL" in line for line in head)


def test_shipped_content_serves_no_fictional_service() -> None:
    assert Brain.load(REPO).directory.services == ()
    assert not list((REPO / "services").glob("*.y*ml"))  # real directories only; the example is in examples/


def test_content_root_without_services_folder_has_an_empty_directory(tmp_path: Path) -> None:
    directory, problems = load_directory(write_minimal_content(tmp_path))
    assert directory.services == () and problems == []
    assert Brain.load(tmp_path).directory.services == ()


def test_a_correct_service_loads(tmp_path: Path) -> None:
    assert problems_for(tmp_path, GOOD) == []


def test_unknown_kind_is_named_with_its_line(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, GOOD.replace("[naloxone]", "[naloxone, narcan_vending]"))
    assert problem.line == 4 and "unknown kind 'narcan_vending'" in problem.message
    assert "syringe_services" in problem.hint


def test_hours_that_do_not_parse_point_at_the_weekday_line(tmp_path: Path) -> None:
    text = GOOD + '    hours:\n      mon: "09:00-17:00"\n      tue: "9am to 5pm"\n'
    problem = only_problem(tmp_path, text)
    assert problem.line == 10 and "hours for tue" in problem.message and "09:00-17:00" in problem.hint


def test_hour_25_and_unknown_weekday_are_errors(tmp_path: Path) -> None:
    text = GOOD + '    hours:\n      mon: "09:00-25:00"\n      funday: "10:00-12:00"\n'
    problems = problems_for(tmp_path, text)
    assert [(p.line, "mon" in p.message or "funday" in p.message) for p in problems] == [
        (9, True),
        (10, True),
    ]


def test_invalid_time_zone_is_an_error_with_an_iana_hint(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, GOOD.replace("Europe/London", "Europe/Atlantis"))
    assert problem.line == 1 and "Europe/Atlantis" in problem.message and "IANA" in problem.hint


def test_hours_without_any_time_zone_are_an_error(tmp_path: Path) -> None:
    text = GOOD.replace("timezone: Europe/London\n", "") + '    hours:\n      mon: "09:00-17:00"\n'
    problem = only_problem(tmp_path, text)
    assert problem.line == 7 and "time zone" in problem.message


@pytest.mark.parametrize("phone", ["call us", "12", "+44 161 496 0101 ext 5", "0161-496-0101-1234-5678-9"])
def test_implausible_phone_numbers_are_errors(tmp_path: Path, phone: str) -> None:
    problem = only_problem(tmp_path, GOOD + f'    phone: "{phone}"\n')
    assert problem.line == 8 and "does not look like a phone number" in problem.message


@pytest.mark.parametrize(
    ("field", "written", "read_as"),
    [
        ("phone: 0123456", "0123456", "42798"),
        ("phone: 1615550101", "1615550101", "1615550101"),
        ("postcodes: [M1, 02134]", "02134", "1116"),
        ("postcodes: 02134", "02134", "1116"),
    ],
)
def test_unquoted_phone_or_postcode_digits_are_errors_that_say_how_to_quote_them(
    tmp_path: Path, field: str, written: str, read_as: str
) -> None:
    problem = only_problem(tmp_path, GOOD + f"    {field}\n")
    assert problem.line == 8
    assert problem.message == (
        f"service 'Test Drop-in': '{field.split(':')[0]}' is an unquoted number, "
        f"so YAML reads {written} as the number {read_as}"
    )
    assert problem.hint == f"quote it: '{written}'"


@pytest.mark.parametrize("phone", ["+44 161 496 0101", "(503) 555-0101", "+1 312-555-0111", "01 809 2166"])
def test_plausible_phone_numbers_pass(phone: str) -> None:
    assert plausible_phone(phone)


@pytest.mark.parametrize(
    ("value", "message"),
    [("[91.0, 2.0]", "out of range"), ("[53.4, -181]", "out of range"), ("[53.4]", "two numbers")],
)
def test_coordinates_out_of_range_or_malformed_are_errors(tmp_path: Path, value: str, message: str) -> None:
    problem = only_problem(tmp_path, GOOD + f"    coordinates: {value}\n")
    assert problem.line == 8 and message in problem.message


def test_duplicate_name_in_one_city_points_at_the_second_and_names_the_first(tmp_path: Path) -> None:
    second = GOOD.split("services:\n")[1]
    problem = only_problem(tmp_path, GOOD + second)
    assert problem.line == 8 and "duplicate service 'Test Drop-in' in Testford" in problem.message
    assert "services/test.yml:3" in problem.hint


def test_same_name_in_another_city_is_fine(tmp_path: Path) -> None:
    second = GOOD.split("services:\n")[1].replace("Testford", "Otherton")
    assert problems_for(tmp_path, GOOD + second) == []


def test_missing_fields_unknown_keys_and_unknown_region_are_named(tmp_path: Path) -> None:
    text = GOOD.replace("    address: 1 Test Street\n", "    adress: 1 Test Street\n").replace("uk", "zz")
    messages = sorted(p.message for p in problems_for(tmp_path, text))
    assert messages == [
        "service 'Test Drop-in' is missing 'address'",
        "service 'Test Drop-in': unknown key 'adress'",
        "service 'Test Drop-in': unknown region 'zz'",
    ]


def test_broken_yaml_names_file_and_line(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, GOOD + "    note: [unclosed\n")
    assert problem.message.startswith("YAML syntax") and problem.line is not None


def test_brain_load_and_validate_report_directory_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "content"
    shutil.copytree(REPO / "intents", root / "intents")
    shutil.copytree(REPO / "responses", root / "responses")
    shutil.copytree(REPO / "resources", root / "resources")
    (root / "services").mkdir()
    (root / "services" / "ours.yml").write_text(GOOD.replace("[naloxone]", "[narcan]"))
    with pytest.raises(ContentError) as caught:
        Brain.load(root)
    assert [p.file for p in caught.value.problems] == ["services/ours.yml"]
    assert main(["--content", str(root), "validate"]) == 1
    assert (
        "services/ours.yml:4: error: service 'Test Drop-in': unknown kind 'narcan'" in capsys.readouterr().err
    )


def test_services_without_referral_texts_in_the_default_locale_are_an_error(tmp_path: Path) -> None:
    root = write_minimal_content(tmp_path)
    (root / "services").mkdir()
    (root / "services" / "ours.yml").write_text(GOOD)
    with pytest.raises(ContentError) as caught:
        Brain.load(root)
    assert any("referral response 'referral_ask' is missing" in p.message for p in caught.value.problems)


def test_intent_with_unknown_service_kind_is_an_error(tmp_path: Path) -> None:
    root = write_minimal_content(tmp_path)
    main_file = root / "intents" / "en" / "main.yml"
    main_file.write_text(
        main_file.read_text().replace(
            "    keywords: [naloxone]\n", "    keywords: [naloxone]\n    services: [narcan]\n"
        )
    )
    with pytest.raises(ContentError) as caught:
        Brain.load(root)
    [problem] = caught.value.problems
    assert problem.file == "intents/en/main.yml" and problem.line == 16 and "'narcan'" in problem.message
