"""Fill the generated parts of the guides in docs/ from their one source, so they cannot drift.

A page marks a generated part with an HTML comment and an end marker:

    <!-- generated: settings -->                 the settings table, from bot/config.py's VARIABLES
    <!-- generated: supporters-help -->          what /help shows in the supporters' group
    <!-- generated: regions -->                  each region's numbers, from resources/regions.yml
    <!-- generated: chat {"input": ["hi"]} -->   a real `peerline chat` conversation, rendered as a phone chat
    ...
    <!-- end generated -->

A chat spec is JSON: "input" (the lines typed, in order; a number presses that button), optional "args"
(e.g. ["--region", "uk"]), "welcome" (show the /start greeting, default false) and "caption".

    python scripts/generate_docs.py           rewrite every page whose generated parts changed
    python scripts/generate_docs.py --check   exit 1 naming each page that differs (tests/test_docs.py)
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BLOCK = re.compile(
    r"(?P<open><!-- generated: (?P<kind>[a-z-]+)(?: (?P<spec>\{.*?\}))? -->\n)"
    r"(?P<body>.*?)"
    r"(?P<close><!-- end generated -->)",
    re.S,
)
PROMPT = "you> "


@dataclass
class Message:
    """One bubble: who said it, its lines, and the buttons shown under it (bot messages only)."""

    side: str  # "bot" or "person"
    text: str
    buttons: list[str] = field(default_factory=list)
    is_html: bool = False  # Telegram HTML (a subset of HTML) written by us, shown with its bold


def settings_table() -> str:
    """The settings table: every variable bot/config.py reads, in its order, with its description."""
    sys.path.insert(0, str(ROOT))
    from bot.config import VARIABLES

    rows = ["| variable | what it is |", "| --- | --- |"]
    for name, description in VARIABLES.items():
        cell = description.replace("|", "\\|")
        rows.append(f"| `{name}` | {cell} |")
    return "\n".join(rows) + "\n"


def regions_table() -> str:
    """The numbers each region gives, read from resources/regions.yml (the only place numbers live)."""
    sys.path.insert(0, str(ROOT))
    from bot.content.loader import load_content

    content = load_content(ROOT)
    keys = ("emergency_number", "crisis_line", "poison_line", "overdose_line", "treatment_helpline")
    rows = [
        "| code | region | emergency | crisis line | poison line | overdose line | treatment helpline |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for code, region in content.regions.items():
        cells = [region.values.get(key, "").replace("|", "\\|") for key in keys]
        default = " (default)" if code == content.default_region else ""
        rows.append(f"| `{code}`{default} | {region.name} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def supporters_help() -> str:
    """What a supporter's /help in the group answers, shown as the bot's message in the group."""
    sys.path.insert(0, str(ROOT))
    from bot.handoff.card import SUPPORTERS_HELP

    reply = Message("bot", SUPPORTERS_HELP, is_html=True)
    return render([Message("person", "/help"), reply], "In the supporters' group")


def run_chat(args: list[str], lines: list[str]) -> tuple[str, list[Message]]:
    """Pipe `lines` into `peerline chat ARGS` and split its output into the welcome and the replies."""
    command = [sys.executable, "-m", "bot.cli", "chat", *args]
    typed = "".join(line + "\n" for line in lines)
    result = subprocess.run(
        command, input=typed, capture_output=True, text=True, cwd=ROOT, check=True, timeout=120
    )
    segments = result.stdout.split(PROMPT)  # the last prompt is followed only by the end of input
    if len(segments) != len(lines) + 2 or segments.pop().strip():
        raise SystemExit(f"peerline chat {shlex.join(args)}: expected {len(lines)} prompts, got output:\n"
                         f"{result.stdout}")  # fmt: skip
    replies = [parse_bot_output(segment) for segment in segments]
    messages: list[Message] = []
    welcome = replies[0]
    shown: list[str] = welcome[-1].buttons if welcome else []
    for line, answer in zip(lines, replies[1:], strict=True):
        if line.strip().isdigit() and 1 <= int(line) <= len(shown):
            messages.append(Message("person", f"👆 {shown[int(line) - 1]}"))
        else:
            messages.append(Message("person", line))
        messages.extend(answer)
        shown = next((m.buttons for m in reversed(answer) if m.buttons), [])
    return result.stdout, (welcome + messages)


def parse_bot_output(segment: str) -> list[Message]:
    """`bot> text` starts a message, 5-space lines continue it, `     [n] label` lines are its buttons."""
    messages: list[Message] = []
    for raw in segment.splitlines():
        if raw.startswith("bot> "):
            messages.append(Message("bot", raw[5:]))
        elif messages and (button := re.fullmatch(r" {5}\[\d+\] (.*)", raw)):
            messages[-1].buttons.append(button.group(1))
        elif messages and raw.startswith("     "):
            messages[-1].text += "\n" + raw[5:]
    return messages


def render(messages: list[Message], caption: str) -> str:
    """A phone-like chat box in raw HTML (one element per line, no blank lines, so Markdown leaves it)."""
    out = ['<div class="pl-chat">', f'<div class="pl-chat-caption">{html.escape(caption)}</div>']
    for message in messages:
        paragraphs = [p.strip() for p in message.text.strip().split("\n\n") if p.strip()]
        escape = (lambda text: text) if message.is_html else html.escape
        body = "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
        out.append(f'<div class="pl-msg pl-{message.side}">{body}</div>')
        if message.buttons:
            chips = "".join(f'<span class="pl-button">{html.escape(b)}</span>' for b in message.buttons)
            out.append(f'<div class="pl-buttons">{chips}</div>')
    out.append("</div>")
    return "\n".join(out) + "\n"


def chat(spec: dict[str, object]) -> str:
    lines = [str(x) for x in spec["input"]]  # type: ignore[attr-defined]
    args = [str(x) for x in spec.get("args", [])]  # type: ignore[attr-defined]
    _, messages = run_chat(args, lines)
    if not spec.get("welcome", False):
        messages = messages[_welcome_length(messages) :]
    caption = str(spec.get("caption") or "A conversation with the bot")
    return render(messages, caption)


def _welcome_length(messages: list[Message]) -> int:
    """How many messages come before the person's first one (the /start greeting)."""
    for index, message in enumerate(messages):
        if message.side == "person":
            return index
    return len(messages)


GENERATORS: dict[str, Callable[[dict[str, object]], str]] = {
    "settings": lambda _spec: settings_table(),
    "supporters-help": lambda _spec: supporters_help(),
    "regions": lambda _spec: regions_table(),
    "chat": chat,
}


def generate(text: str) -> str:
    """The page with every generated part filled in afresh."""

    def fill(match: re.Match[str]) -> str:
        kind = match.group("kind")
        if kind not in GENERATORS:
            raise SystemExit(f"unknown generated part '{kind}'; known: {', '.join(GENERATORS)}")
        spec = json.loads(match.group("spec")) if match.group("spec") else {}
        return match.group("open") + GENERATORS[kind](spec) + match.group("close")

    return BLOCK.sub(fill, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="report pages that differ; change nothing")
    args = parser.parse_args(argv)
    stale = []
    for page in sorted(DOCS.rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        if "<!-- generated:" not in text:
            continue
        fresh = generate(text)
        if fresh != text:
            stale.append(page.relative_to(ROOT))
            if not args.check:
                page.write_text(fresh, encoding="utf-8")
    verb = "differs from its sources" if args.check else "regenerated"
    for page in stale:
        print(f"{page}: {verb}")
    if args.check and stale:
        print("run: python scripts/generate_docs.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
