"""`peerline eval`: exact figures on a small known set, per locale, minimums, JSON and the HTML report."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from bot.brain import Brain
from bot.charts import png_size
from bot.cli import main
from bot.evaluation import evaluate_brain, load_cases
from tests.admin_content import write_two_locale_content

# Every prediction below was measured with `peerline match` on this content before being written here.
CASES = """\
locale: en
messages:
  - {text: where can i get naloxone, intent: naloxone}
  - {text: how do i use narcan please, intent: naloxone}
  - {text: what are the signs of an overdose, intent: overdose_signs}
  - {text: how do i know if someone is overdosing, intent: overdose_signs}
  - {text: my friend is not breathing, intent: crisis_overdose}
  - {text: signs of overdose, intent: crisis_overdose}       # taken as overdose_signs: a crisis miss
  - {text: is this anonymous, intent: privacy}
  - {text: can i get naloxone, intent: overdose_signs}      # taken as naloxone
  - {text: whats the weather like, intent: null}
  - {text: best pizza in town, intent: null}
  - {text: where can i get naloxone pizza, intent: null}              # taken as naloxone: not rejected
  - {text: donde consigo naloxona, intent: naloxone, locale: es}
  - {text: mi amigo no respira, intent: crisis_overdose, locale: es}
  - {text: hola que tal el futbol, intent: null, locale: es}
"""


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return write_two_locale_content(tmp_path / "content")


@pytest.fixture
def cases_file(tmp_path: Path) -> Path:
    path = tmp_path / "cases.yaml"
    path.write_text(CASES)
    return path


def test_figures_on_a_known_set_are_exact_overall_and_per_locale(content: Path, cases_file: Path) -> None:
    evaluation = evaluate_brain(Brain.load(content), load_cases(cases_file))
    overall = evaluation.overall
    assert (overall.total, overall.in_scope, overall.out_of_scope) == (14, 10, 4)
    assert overall.accuracy == pytest.approx(8 / 10)
    assert overall.crisis_recall == pytest.approx(2 / 3)
    assert overall.crisis_false_positive_rate == 0.0 and overall.non_crisis_cases == 11
    assert overall.out_of_scope_rejection == pytest.approx(3 / 4)
    naloxone = overall.per_intent["naloxone"]
    # predicted naloxone 5 times (3 right); all 3 naloxone messages found
    assert (naloxone.precision, naloxone.recall, naloxone.support) == (pytest.approx(3 / 5), 1.0, 3)
    assert naloxone.f1 == pytest.approx(2 * 0.6 / 1.6)
    signs = overall.per_intent["overdose_signs"]
    assert (signs.precision, signs.recall) == (pytest.approx(2 / 3), pytest.approx(2 / 3))
    assert overall.per_intent["crisis_overdose"].recall == pytest.approx(2 / 3)
    assert overall.per_intent["crisis_overdose"].precision == 1.0
    assert ("crisis_overdose", "overdose_signs", 1, ["signs of overdose"]) in overall.confusions
    assert ("(out of scope)", "naloxone", 1, ["where can i get naloxone pizza"]) in overall.confusions
    assert sorted(f.case.text for f in overall.failures) == [
        "can i get naloxone", "signs of overdose", "where can i get naloxone pizza"
    ]  # fmt: skip
    english, spanish = evaluation.by_locale["en"], evaluation.by_locale["es"]
    assert (english.total, english.accuracy, english.crisis_recall) == (11, 6 / 8, 1 / 2)
    assert english.out_of_scope_rejection == pytest.approx(2 / 3)
    assert (spanish.total, spanish.accuracy, spanish.crisis_recall, spanish.out_of_scope_rejection) == (
        3, 1.0, 1.0, 1.0
    )  # fmt: skip


def test_eval_exits_non_zero_naming_the_minimum_that_failed(
    content: Path, cases_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--content", str(content), "eval", str(cases_file)]
    assert main([*base, "--min-accuracy", "0.8"]) == 0
    assert main([*base, "--min-accuracy", "0.81", "--min-crisis-recall", "0.5"]) == 1
    err = capsys.readouterr().err
    assert "below minimum: top-1 accuracy 0.800 is under --min-accuracy 0.81" in err
    assert "crisis recall" not in err
    assert main([*base, "--min-crisis-recall", "1"]) == 1
    assert "below minimum: crisis recall 0.667 is under --min-crisis-recall 1.0" in capsys.readouterr().err


def test_eval_json_reports_overall_and_each_locale(
    content: Path, cases_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--content", str(content), "eval", str(cases_file), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["accuracy"] == 0.8 and report["out_of_scope_rejection"] == 0.75
    assert report["locales"]["es"]["total"] == 3 and report["locales"]["en"]["crisis_recall"] == 0.5
    assert {f["locale"] for f in report["failures"]} == {"en"}


def test_eval_reads_several_files_and_refuses_an_unknown_locale(
    content: Path, cases_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = tmp_path / "more.yaml"
    extra.write_text("locale: es\nmessages:\n  - {text: como uso narcan, intent: naloxone}\n")
    assert main(["--content", str(content), "eval", str(cases_file), str(extra), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["locales"]["es"]["total"] == 4
    extra.write_text("locale: fr\nmessages:\n  - {text: ou trouver naloxone, intent: naloxone}\n")
    assert main(["--content", str(content), "eval", str(extra)]) == 2
    assert "is in locale 'fr', but the content has en, es" in capsys.readouterr().err


def test_html_report_is_self_contained_names_every_intent_and_escapes_text(
    content: Path, tmp_path: Path
) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(CASES + "  - {text: '<script>alert(1)</script> & narcan', intent: overdose_signs}\n")
    out = tmp_path / "report.html"
    main(["--content", str(content), "eval", str(cases), "--html", str(out)])
    page = out.read_text()
    assert page.startswith("<!doctype html>")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; narcan" in page
    for intent in Brain.load(content).content.locales["en"].intents:
        assert f"<td>{intent}</td>" in page
    assert 'src="http' not in page and "<link" not in page  # nothing fetched from elsewhere
    [encoded] = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    width, height = png_size(base64.b64decode(encoded))
    assert width > 300 and height > 300
