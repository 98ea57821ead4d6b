"""/reload, /version and /stats end to end: the real PTB Application against FakeTelegram and real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.brain import Brain
from bot.charts import png_size
from bot.engine import Engine
from bot.events import Command
from bot.reload import ContentReloader
from bot.session import Session
from bot.state.reload_bus import ReloadBus
from bot.telegram.application import BUS_KEY, RELOADER_KEY
from tests.fake_telegram import UploadedFile
from tests.minimal_content import write_minimal_content
from tests.telegram_harness import ALICE, BOB, RunningBot, StartBot, bot_factory


@pytest.fixture
async def start_bot(brain: Brain) -> AsyncIterator[StartBot]:
    async with bot_factory(brain) as start:
        yield start


@pytest.fixture
async def admin_bot(start_bot: StartBot, tmp_path: Path) -> AsyncIterator[tuple[RunningBot, Path, ReloadBus]]:
    """A bot with ALICE as its admin, serving the minimal content from a folder the test can edit.

    The admin commands, the reloader and the bus listener are the ones `build_application` and `serve`
    wire in, as in production.
    """
    root = write_minimal_content(tmp_path / "content")
    bot = await start_bot(ADMIN_IDS=str(ALICE), content_root=root)
    reloader: ContentReloader = bot.app.bot_data[RELOADER_KEY]
    assert (await reloader.reload()).ok
    bus = bot.app.bot_data[BUS_KEY]
    assert isinstance(bus, ReloadBus)
    await asyncio.wait_for(bus.subscribed.wait(), 5)
    yield bot, root, bus


async def test_admin_reload_reports_the_diff_and_the_bot_answers_from_new_content(
    admin_bot: tuple[RunningBot, Path, ReloadBus],
) -> None:
    bot, root, bus = admin_bot
    before = bus.reloader.version
    path = root / "intents/en/main.yml"
    path.write_text(
        path.read_text().replace(
            "      - is this anonymous\n", "      - is this anonymous\n      - do you keep my chats\n"
        )
    )
    await bot.tg.send_text(ALICE, "/reload")
    [report] = await bot.texts(ALICE)
    after = bus.reloader.version
    assert report.startswith(f"Reloaded. content {before} -> {after}\n[en] changed privacy; examples +1 -0")
    assert "Asked 0 other process(es) to reload" in report
    await bot.tg.send_text(ALICE, "/version")
    _, version = await bot.texts(ALICE, 2)
    assert version.startswith(f"Content version {after} here; all agree.")


async def test_broken_edit_is_refused_with_file_and_line_and_old_content_keeps_answering(
    admin_bot: tuple[RunningBot, Path, ReloadBus],
) -> None:
    bot, root, bus = admin_bot
    before = bus.reloader.version
    path = root / "intents/en/main.yml"
    path.write_text(path.read_text().replace("    title: Privacy\n", "    title: [Privacy\n"))
    await bot.tg.send_text(ALICE, "/reload")
    [report] = await bot.texts(ALICE)
    assert report.startswith(f"Reload refused: 1 problem(s). Still serving version {before}.")
    assert "intents/en/main.yml:" in report
    await bot.tg.send_text(BOB, "my friend is not breathing")
    [crisis] = await bot.texts(BOB)
    assert "crisis_overdose one." in crisis or "crisis_overdose two." in crisis  # the minimal content's reply
    assert bus.reloader.version == before


async def test_non_admins_get_the_ordinary_unknown_command_answer(
    admin_bot: tuple[RunningBot, Path, ReloadBus],
) -> None:
    bot, _, bus = admin_bot
    for command in ("/reload", "/version", "/stats"):
        await bot.tg.send_text(BOB, command)
    replies = await bot.texts(BOB, 3)
    # The reloaded minimal content's unknown_command variants, in turn (the session rotates them).
    assert (
        replies[0] == Engine(bus.reloader.engine.brain).handle(Command("reload"), Session()).replies[0].text
    )
    assert [r.split(".")[0] for r in replies] == [
        "unknown_command one",
        "unknown_command two",
        "unknown_command one",
    ]
    assert not bot.tg.calls_to("sendPhoto")


async def test_admin_stats_sends_a_chart(admin_bot: tuple[RunningBot, Path, ReloadBus]) -> None:
    bot, _, _ = admin_bot
    await bot.tg.send_text(ALICE, "/stats")

    def sent() -> bool:
        return any(c.ok for c in bot.tg.calls_to("sendPhoto", ALICE))

    await bot.tg.wait_for(sent, 10, description="a photo to the admin")
    [call] = [c for c in bot.tg.calls_to("sendPhoto", ALICE) if c.ok]
    photo = call.params["photo"]
    assert isinstance(photo, UploadedFile)
    width, height = png_size(photo.data)
    assert width >= 600 and height >= 600
