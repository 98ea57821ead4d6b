"""A content reload that fails while people are messaging the bot changes nothing they see.

The real bot answers a stream of people while an admin's /reload of broken YAML loads (in a thread) and is
refused: every reply comes from the content already loaded, and its version stays the same.
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.brain import Brain
from bot.events import TextMessage
from bot.reload import CONTENT_FOLDERS, ContentReloader
from bot.session import Session
from bot.telegram.application import ENGINE_KEY, RELOADER_KEY
from bot.telegram.handlers import AnyApplication
from tests.telegram_harness import StartBot, bot_factory, eventually

REPO = Path(__file__).resolve().parents[1]
ADMIN = 555_444_333_222_111
FIRST_PERSON = 700_000_000_000_000
MESSAGES = (
    "where can i get narcan",
    "my friend is not breathing and wont wake up",
    "how do fentanyl test strips work",
    "i want to stop using",
    "hi",
    "is it safe to mix alcohol and benzos",
)
BURST = 12  # people writing at the same moment


@pytest.fixture
async def start_bot(brain: Brain) -> AsyncIterator[StartBot]:
    async with bot_factory(brain) as start:
        yield start


def copy_content(root: Path) -> Path:
    for folder in CONTENT_FOLDERS:
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, root / folder)
    return root


async def test_reload_of_broken_yaml_under_load_leaves_every_reply_and_the_version_unchanged(
    start_bot: StartBot, tmp_path: Path
) -> None:
    root = copy_content(tmp_path / "content")
    bot = await start_bot(ADMIN_IDS=str(ADMIN), content_root=root)
    app: AnyApplication = bot.app
    engine = app.bot_data[ENGINE_KEY]
    started, go_on = threading.Event(), threading.Event()

    def load(content: Path) -> Brain:
        # The real loader, held back until people have been answered meanwhile: the overlap is certain.
        started.set()
        go_on.wait(10)
        return Brain.load(content)

    # The bot's own reloader (the one /reload uses), with its loader held back as above.
    reloader = app.bot_data[RELOADER_KEY]
    assert isinstance(reloader, ContentReloader) and reloader.root == root
    reloader.load = load
    served_brain, version = engine.brain, reloader.version
    broken = root / "intents/en/treatment.yml"
    broken.write_text(broken.read_text() + "\n  - id: [unclosed\n")

    def expected(text: str) -> list[str]:
        return [r.text for r in bot.engine.handle(TextMessage(text), Session()).replies]

    people: dict[int, str] = {}
    await bot.tg.send_text(ADMIN, "/reload")

    async def loading() -> bool:
        return started.is_set()

    await eventually(loading)
    reload_asked = asyncio.get_running_loop().time()
    # Bursts of new people until the admin hears the reload was refused; the load may go on after the first.
    while not bot.tg.calls_to("sendMessage", ADMIN):
        burst = {
            FIRST_PERSON + len(people) + i: MESSAGES[(len(people) + i) % len(MESSAGES)] for i in range(BURST)
        }
        people |= burst
        for person, text in burst.items():
            await bot.tg.send_text(person, text)
        for person, text in burst.items():
            await bot.replies(person, len(expected(text)), timeout=10)
        go_on.set()

    [answer] = bot.tg.calls_to("sendMessage", ADMIN)
    assert str(answer.params["text"]).startswith(
        f"Reload refused: 1 problem(s). Still serving version {version}."
    )
    assert "treatment.yml" in str(answer.params["text"])
    during = [
        c
        for person in people
        for c in bot.tg.calls_to("sendMessage", person)
        if reload_asked <= c.at <= answer.at
    ]
    assert during, "no reply was sent while the reload was running"
    for person, text in people.items():
        assert bot.tg.sent_texts(person) == expected(text)
    assert engine.brain is served_brain and reloader.version == version
