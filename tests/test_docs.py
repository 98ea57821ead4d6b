"""The guides in docs/ cannot go stale: generated parts match their sources, and shown commands run.

Every ```sh block in a guide is either run here (the safe `peerline` commands and `mkdocs build`) or
titled with what it needs (`title="... needs Docker ..."`), which this test counts and skips knowingly.
A command that is neither fails the test, so a new command cannot slip in unchecked.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GUIDES = sorted(DOCS.rglob("*.md"))
FENCE = re.compile(r"^```(?P<lang>[\w-]*)(?P<info>[^\n]*)\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
EXIT_1_ALLOWED = "<!-- doc-test: exit 1 allowed"
SAFE_PEERLINE = frozenset({"validate", "eval", "match", "intents", "chat", "coverage"})
INPUT_PROGRAMS = frozenset({"printf", "echo"})
INSTALL_LINE = "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && peerline chat"


@dataclass(frozen=True)
class Shown:
    """One command line shown in a guide, where it is, and what the page says about running it."""

    page: str
    line: int
    command: str
    needs: str | None  # the block's title when it says what the command needs
    exit_1_allowed: bool


def shown_commands() -> list[Shown]:
    found = []
    for page in GUIDES:
        text = page.read_text(encoding="utf-8")
        for fence in FENCE.finditer(text):
            lang, info = fence.group("lang"), fence.group("info")
            line = text.count("\n", 0, fence.start()) + 1
            if lang in ("bash", "shell", "console", "shell-session"):
                pytest.fail(
                    f"{page.name}:{line}: write shell commands in ```sh blocks so this test sees them"
                )
            if lang != "sh":
                continue
            title = re.search(r'title="([^"]*)"', info)
            needs = title.group(1) if title and "needs" in title.group(1) else None
            before = text[: fence.start()].rstrip().rsplit("\n", 1)[-1]
            body = fence.group("body").replace("\\\n", " ")
            for offset, raw in enumerate(body.splitlines(), start=1):
                command = _without_comment(raw).strip()
                if command:
                    found.append(
                        Shown(page.name, line + offset, command, needs, before.startswith(EXIT_1_ALLOWED))
                    )
    return found


def _without_comment(line: str) -> str:
    """The line up to a `#` comment that is outside quotes."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


def is_safe(command: str) -> bool:
    """Reads content or builds the site, touches no network, token, Docker or Redis."""
    for part in command.split("|"):
        words = shlex.split(part)
        if not words:
            return False
        if words[0] in INPUT_PROGRAMS:
            continue
        if words[0] == "peerline" and len(words) > 1 and words[1] in SAFE_PEERLINE:
            continue
        if words[:2] == ["mkdocs", "build"]:
            continue
        return False
    return True


def run(shown: Shown) -> tuple[Shown, int, str]:
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run(
        ["bash", "-c", "set -o pipefail; " + shown.command],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return shown, result.returncode, (result.stdout[-1500:] + result.stderr[-1500:])


def test_generated_parts_of_the_guides_match_their_sources() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_docs.py"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, (
        "the settings table, a conversation or the supporters' /help in docs/ is stale:\n"
        f"{result.stdout}{result.stderr}"
    )


def test_every_command_shown_in_the_guides_runs_or_is_marked_with_what_it_needs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    shown = shown_commands()
    unmarked = [s for s in shown if s.needs is None and not is_safe(s.command)]
    assert not unmarked, "commands neither safe to run here nor titled with what they need:\n" + "\n".join(
        f'  {s.page}:{s.line}: {s.command}  (title its block "... needs ...", or make it safe)'
        for s in unmarked
    )
    skipped = [s for s in shown if s.needs is not None]
    to_run = [s for s in shown if s.needs is None]
    if importlib.util.find_spec("mkdocs") is None:
        no_mkdocs = [s for s in to_run if s.command.startswith("mkdocs")]
        skipped += no_mkdocs  # counted below; `pip install -e '.[docs]'` brings it (as .ci/run does)
        to_run = [s for s in to_run if s not in no_mkdocs]
    unique = list({s.command: s for s in to_run}.values())
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, unique))
    failed = [
        f"  {s.page}:{s.line}: {s.command} exited {code}\n{output}"
        for s, code, output in results
        if code != 0 and not (code == 1 and s.exit_1_allowed)
    ]
    with capsys.disabled():
        print(
            f"\ndocs commands: {len(to_run)} shown and run ({len(unique)} distinct), "
            f"{len(skipped)} skipped as marked: "
            + "; ".join(sorted({s.needs or "mkdocs not installed" for s in skipped}))
        )
    assert not failed, "commands shown in the guides failed:\n" + "\n".join(failed)
    assert len(unique) >= 10  # the guides do show the admins' commands


def test_shown_commands_are_found_and_classified() -> None:
    commands = {s.command: s for s in shown_commands()}
    assert "peerline validate" in commands and is_safe("peerline validate")
    assert is_safe("printf 'hi\\n' | peerline chat --region uk")
    assert not is_safe("docker compose up -d") and not is_safe("peerline run --watch")
    assert not is_safe("printf 'x' | bash")
    assert commands["peerline run --watch"].needs
    assert _without_comment("peerline eval a.yaml   # the sets") == "peerline eval a.yaml   "
    assert _without_comment("printf '#1\\n' | peerline chat") == "printf '#1\\n' | peerline chat"


def test_front_door_is_short_keeps_the_two_commands_and_links_every_guide() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.split()) < 1500
    lines = text.splitlines()
    assert INSTALL_LINE in lines
    assert "`python -m pytest -q`):" in lines and "bash .ci/run" in lines
    for target in re.findall(r"\]\(([^)#]+\.md)(?:#[^)]*)?\)", text):
        assert (ROOT / target).exists(), f"the front door links to {target}, which does not exist"
    for page in ("supporters.md", "admins.md", "operators.md", "how-it-works.md", "quality.md"):
        assert f"docs/{page}" in text
