"""`peerline chat`: the engine in a terminal, with buttons shown as numbered choices."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from bot.content.html import to_plain_text
from bot.engine import Engine
from bot.events import (
    Button,
    ButtonPress,
    Command,
    Event,
    ForgetUser,
    Reply,
    RequestHandoff,
    TextMessage,
)
from bot.session import Session

PROMPT = "you> "
QUIT = frozenset({"/quit", "/exit", "/q"})


def parse_line(line: str, buttons: tuple[Button, ...]) -> Event:
    """A number picks a shown button, "/x args" is a command, anything else is a message."""
    text = line.strip()
    if text.isdigit() and 1 <= int(text) <= len(buttons):
        return ButtonPress(buttons[int(text) - 1].data)
    if text.startswith("/") and len(text) > 1:
        name, _, args = text[1:].partition(" ")
        return Command(name.split("@")[0], args)
    return TextMessage(line)


class TerminalChat:
    """Holds one in-memory session; nothing is written anywhere."""

    def __init__(
        self, engine: Engine, output: TextIO, region: str | None = None, locale: str | None = None
    ) -> None:
        self.engine = engine
        self.output = output
        self.session = Session(locale=locale, region=region)
        self.buttons: tuple[Button, ...] = ()

    def say(self, text: str) -> None:
        self.output.write("bot> " + to_plain_text(text).strip().replace("\n", "\n     ") + "\n")

    def show_buttons(self, buttons: tuple[Button, ...]) -> None:
        for number, button in enumerate(buttons, 1):
            self.output.write(f"     [{number}] {button.label}\n")

    def send(self, event: Event) -> None:
        outcome = self.engine.handle(event, self.session)
        self.session = outcome.session or Session()
        self.buttons = ()
        for action in outcome.actions:
            if isinstance(action, Reply):
                self.say(action.text)
                self.show_buttons(action.buttons)
                self.buttons = action.buttons or self.buttons
            elif isinstance(action, RequestHandoff):
                self.say(self.engine.system_text("handoff_terminal", self.session))
            elif isinstance(action, ForgetUser):
                self.session = Session()
        self.output.flush()

    def run(self, read: Callable[[str], str]) -> None:
        self.output.write(
            "Peerline terminal preview: type a message, a number to press a button, /quit to leave.\n"
        )
        self.send(Command("start"))
        while True:
            try:
                line = read(PROMPT)
            except (EOFError, KeyboardInterrupt):
                self.output.write("\n")
                return
            if line.strip().lower() in QUIT:
                return
            if not line.strip():
                continue
            self.send(parse_line(line, self.buttons))
