"""The `peerline` command line, run as people run it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.brain import Brain
from bot.cli import main
from bot.engine import Engine
from bot.events import ButtonPress, Command, TextMessage
from bot.terminal import TerminalChat, parse_line
from tests.minimal_content import write_minimal_content

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
        cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip


def test_match_json_reads_one_message_per_line_in_one_process() -> None:
    done = run("match", "--json", stdin="where can i get narcan\nhe is not breathing\nbest pizza near me\n")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["intent"] for r in rows] == ["naloxone", "crisis_overdose", None]
    assert [r["crisis"] for r in rows] == [False, True, False]
    for row in rows:
        assert isinstance(row["score"], float) and isinstance(row["response"], str)
        assert all(isinstance(c[0], str) and isinstance(c[1], float) for c in row["candidates"])


def test_match_text_prints_a_readable_result(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match", "how do i use naloxone"]) == 0
    out = capsys.readouterr().out
    assert "intent:    naloxone" in out and "runner-up:" in out and "decision:  match" in out


def test_intents_json_lists_id_examples_crisis_locale(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["intents", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_id = {r["id"]: r for r in rows}
    assert by_id["crisis_suicide"]["crisis"] is True and by_id["naloxone"]["crisis"] is False
    assert {r["locale"] for r in rows} == {"en", "es"}
    assert all(len(r["examples"]) >= 12 for r in rows)


def test_validate_passes_on_shipped_content(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


def test_validate_fails_with_file_and_line_on_broken_content(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_minimal_content(tmp_path)
    path = root / "intents/en/main.yml"
    path.write_text(path.read_text().replace("response: naloxone", "response: nope"))
    assert main(["--content", str(root), "validate"]) == 1
    err = capsys.readouterr().err
    assert "intents/en/main.yml:" in err and "unknown response 'nope'" in err and "fix:" in err


def test_validate_fails_on_an_unquoted_emergency_number_and_says_to_quote_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_minimal_content(tmp_path)
    path = root / "resources/regions.yml"
    path.write_text(path.read_text().replace('emergency_number: "999"', "emergency_number: 000"))
    assert main(["--content", str(root), "validate"]) == 1
    err = capsys.readouterr().err
    assert "resources/regions.yml:" in err and "region 'uk'" in err and "quote it: '000'" in err


def test_validate_strict_reports_quality_findings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_minimal_content(tmp_path)
    assert main(["--content", str(root), "validate", "--strict"]) == 1
    assert "examples" in capsys.readouterr().out


def test_eval_prints_figures_and_gates_on_minimums(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "messages:\n"
        "  - {text: 'where can i get narcan', intent: naloxone}\n"
        "  - {text: 'my friend is not breathing', intent: crisis_overdose}\n"
        "  - {text: 'whats the capital of peru', intent: null}\n"
    )
    assert main(["eval", str(cases), "--min-accuracy", "0.9", "--min-crisis-recall", "1.0"]) == 0
    out = capsys.readouterr().out
    assert "top-1 accuracy (in scope):     100.0%" in out and "crisis recall (either tier):   100.0%" in out
    cases.write_text("messages:\n  - {text: 'where can i get narcan', intent: methadone}\n")
    assert main(["eval", str(cases), "--min-accuracy", "0.5"]) == 1
    assert "below minimum" in capsys.readouterr().err


def test_eval_json_has_per_intent_scores(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(ROOT / "tests/data/dev/en.yaml"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["crisis_recall"] == 1.0
    assert {"precision", "recall", "f1", "support"} <= set(report["per_intent"]["naloxone"])


def test_chat_runs_a_scripted_conversation_without_token_or_redis() -> None:
    script = "where can i get narcan\n1\n/region uk\nhe wont wake up\n/forget\n1\n/quit\n"
    done = run("chat", stdin=script)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "bot> " in out and "[1] " in out
    assert "999" in out  # the crisis reply after choosing the UK
    assert "<b>" not in out  # HTML is rendered as plain text


def test_chat_rejects_an_unknown_region() -> None:
    done = run("chat", "--region", "mars")
    assert done.returncode == 2 and "unknown region 'mars'" in done.stderr


def test_terminal_numbers_press_buttons_and_text_stays_text(brain: Brain) -> None:
    out = io.StringIO()
    chat = TerminalChat(Engine(brain), out)
    chat.send(parse_line("where can i get naloxone", chat.buttons))
    target = chat.buttons[0].data
    assert parse_line("1", chat.buttons) == ButtonPress(target)
    assert parse_line("12 ways", chat.buttons) == TextMessage("12 ways")
    assert parse_line("/region uk", chat.buttons) == Command("region", "uk")
    chat.send(parse_line("1", chat.buttons))
    assert out.getvalue().count("bot> ") == 2
