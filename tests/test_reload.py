"""Live reload: a valid change swaps in, a broken one is refused while the old content answers, a reload in
one process reaches another through Redis, and saving a file reloads with --watch."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.brain import Brain
from bot.content.diff import diff_content
from bot.content.loader import load_content
from bot.engine import Engine
from bot.events import TextMessage
from bot.reload import ContentReloader, ReloadResult, watch
from bot.session import Session
from bot.state.reload_bus import ReloadBus
from tests.admin_content import write_two_locale_content
from tests.minimal_content import write_minimal_content
from tests.telegram_harness import eventually

NEW_EXAMPLE = "      - where can i get naloxone\n      - any free naloxone kits around here\n"


def add_example(root: Path) -> None:
    path = root / "intents/en/main.yml"
    path.write_text(path.read_text().replace("      - where can i get naloxone\n", NEW_EXAMPLE))


def answer(engine: Engine, text: str) -> str | None:
    return engine.handle(TextMessage(text), Session()).intent


async def test_valid_change_is_swapped_in_with_a_diff(tmp_path: Path) -> None:
    root = write_minimal_content(tmp_path / "c")
    engine = Engine(Brain.load(root))
    reloader = ContentReloader(root, engine)
    before = reloader.version
    add_example(root)
    result = await reloader.reload()
    assert result.ok and result.version == reloader.version != before
    assert result.diff is not None
    [english] = result.diff.locales
    assert (english.intents_changed, english.examples_added, english.examples_removed) == (
        ("naloxone",),
        1,
        0,
    )
    assert (
        result.text()
        == f"Reloaded. content {before} -> {result.version}\n[en] changed naloxone; examples +1 -0"
    )
    assert (
        "any free naloxone kits around here"
        in engine.brain.content.locales["en"].intents["naloxone"].examples
    )


async def test_broken_yaml_is_refused_with_file_and_line_and_old_content_keeps_answering(
    tmp_path: Path,
) -> None:
    root = write_minimal_content(tmp_path / "c")
    engine = Engine(Brain.load(root))
    reloader = ContentReloader(root, engine)
    before, old_brain = reloader.version, engine.brain
    path = root / "intents/en/main.yml"
    path.write_text(path.read_text().replace("    title: Naloxone\n", "    title: [Naloxone\n"))
    result = await reloader.reload()
    assert not result.ok and result.version == before and engine.brain is old_brain
    text = result.text()
    assert text.startswith(f"Reload refused: 1 problem(s). Still serving version {before}.")
    assert "intents/en/main.yml:" in text and "YAML" in text
    assert answer(engine, "where can i get naloxone") == "naloxone"
    assert answer(engine, "my friend is not breathing") == "crisis_overdose"


async def test_reload_with_an_unquoted_emergency_number_is_refused_and_the_last_good_number_stays(
    tmp_path: Path,
) -> None:
    root = write_minimal_content(tmp_path / "c")
    engine = Engine(Brain.load(root))
    reloader = ContentReloader(root, engine)
    before = reloader.version
    path = root / "resources/regions.yml"
    path.write_text(path.read_text().replace('emergency_number: "999"', "emergency_number: 000"))
    result = await reloader.reload()
    assert not result.ok and result.version == before
    assert "resources/regions.yml:" in result.text() and "quote it: '000'" in result.text()
    assert engine.brain.content.regions["uk"].values["emergency_number"] == "999"


async def test_reload_of_a_crisis_reply_without_the_emergency_number_is_refused(tmp_path: Path) -> None:
    root = write_minimal_content(tmp_path / "c")
    engine = Engine(Brain.load(root))
    reloader = ContentReloader(root, engine)
    before, old_brain = reloader.version, engine.brain
    path = root / "responses/en/all.yml"
    path.write_text(path.read_text().replace(" Call {emergency_number}.'", "'", 1))
    result = await reloader.reload()
    assert not result.ok and result.version == before and engine.brain is old_brain
    assert (
        "crisis response 'crisis_overdose' (en), variant 2, does not give {emergency_number}" in result.text()
    )


def test_diff_names_intents_added_removed_changed_per_locale(tmp_path: Path) -> None:
    root = write_two_locale_content(tmp_path / "c")
    old = load_content(root)
    es = root / "intents/es/main.yml"
    es.write_text(
        es.read_text().replace(
            "  - id: privacy\n    title: Privacy\n", "  - id: privacidad\n    title: Privacidad\n"
        )
    )
    es.write_text(es.read_text().replace("      - como uso narcan\n", ""))
    en = root / "intents/en/main.yml"
    en.write_text(en.read_text().replace("    title: What I can do\n", "    title: What this bot does\n"))
    # Every locale has every intent: the renamed one is renamed in English too (same examples).
    en.write_text(en.read_text().replace("  - id: privacy\n", "  - id: privacidad\n"))
    for folder in ("responses/en", "responses/es"):
        for path in (root / folder).glob("*.yml"):
            path.write_text(path.read_text().replace("\n  privacy:\n", "\n  privacidad:\n"))
    for path in (root / "intents").glob("*/*.yml"):
        path.write_text(path.read_text().replace("    response: privacy\n", "    response: privacidad\n"))
    diff = diff_content(old, load_content(root))
    by_locale = {d.locale: d for d in diff.locales}
    assert by_locale["en"].intents_changed == ("bot_help",) and by_locale["en"].examples_added == 1
    assert (by_locale["en"].intents_added, by_locale["en"].intents_removed) == (("privacidad",), ("privacy",))
    es_diff = by_locale["es"]
    assert (es_diff.intents_added, es_diff.intents_removed, es_diff.intents_changed) == (
        ("privacidad",), ("privacy",), ("naloxone",)
    )  # fmt: skip
    # the privacy example moved with the renamed intent: one added, one removed, plus the deleted one
    assert (es_diff.examples_added, es_diff.examples_removed) == (1, 2)
    assert "[es] added privacidad; removed privacy; changed naloxone; examples +1 -2" in diff.text()
    assert "[en] added privacidad; removed privacy; changed bot_help; examples +1 -1" in diff.text()
    assert diff_content(old, old).text().endswith("no changes to intents, examples, responses or regions")


async def test_reload_in_one_process_reaches_another_through_redis(
    tmp_path: Path, redis: tuple[Redis, str]
) -> None:
    client, prefix = redis
    first_root = write_minimal_content(tmp_path / "one")
    second_root = tmp_path / "two"
    shutil.copytree(first_root, second_root)  # each process has its own copy on disk
    first, second = Engine(Brain.load(first_root)), Engine(Brain.load(second_root))
    first_bus = ReloadBus(client, prefix, ContentReloader(first_root, first), "process-one")
    second_bus = ReloadBus(client, prefix, ContentReloader(second_root, second), "process-two")
    stop = asyncio.Event()
    listeners = [asyncio.create_task(bus.listen(stop)) for bus in (first_bus, second_bus)]
    try:
        await asyncio.wait_for(second_bus.subscribed.wait(), 5)
        await asyncio.wait_for(first_bus.subscribed.wait(), 5)
        old = first.brain.content.version
        add_example(first_root)
        add_example(second_root)  # the deployment put the same edit on both disks
        result = await first_bus.reloader.reload()
        assert result.ok
        assert await first_bus.publish_reload() == 1

        async def second_caught_up() -> bool:
            return second.brain.content.version == result.version

        await eventually(second_caught_up)
        assert result.version != old and first_bus.last_result is None  # it did not reload twice
        await first_bus.report_version()

        async def board_agrees() -> bool:
            rows = await first_bus.versions()
            return {r.instance: r.version for r in rows} == {
                "process-one": result.version,
                "process-two": result.version,
            }

        await eventually(board_agrees)
    finally:
        stop.set()
        await asyncio.gather(*listeners)


MALFORMED_RELOAD_MESSAGES = [
    b"1",
    b"[]",
    b"null",
    b'"reload"',
    b"not json",
    b"\xff\xfe",
    b"{}",
    b'{"from": 7}',
    b"[" * 100_000,
]


async def test_malformed_reload_messages_are_each_logged_once_and_the_listener_keeps_hearing_reloads(
    tmp_path: Path, redis: tuple[Redis, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    client, prefix = redis
    root = write_minimal_content(tmp_path / "c")
    bus = ReloadBus(client, prefix, ContentReloader(root, Engine(Brain.load(root))), "listener")
    stop = asyncio.Event()
    listener = asyncio.create_task(bus.listen(stop))
    try:
        await asyncio.wait_for(bus.subscribed.wait(), 5)
        for payload in MALFORMED_RELOAD_MESSAGES:
            assert await client.publish(bus.channel, payload) == 1
        assert await client.publish(bus.channel, json.dumps({"from": "another-process"})) == 1

        async def reloaded() -> bool:
            return bus.last_result is not None

        await eventually(reloaded)  # delivered in order, so every malformed one was handled before it
        assert bus.last_result is not None and bus.last_result.ok
        assert not listener.done() and bus.subscribed.is_set()
        ignored = [r for r in caplog.records if r.getMessage().startswith("event=reload_message_ignored")]
        assert len(ignored) == len(MALFORMED_RELOAD_MESSAGES)
        assert all(r.levelno == logging.WARNING for r in ignored)
        assert not any("not json" in r.getMessage() for r in caplog.records)  # the content is not logged
    finally:
        stop.set()
        await listener


async def test_watch_reloads_when_a_content_file_is_saved(tmp_path: Path) -> None:
    root = write_minimal_content(tmp_path / "c")
    engine = Engine(Brain.load(root))
    reloader = ContentReloader(root, engine)
    results = []

    async def collect(result: object) -> None:
        results.append(result)

    stop = asyncio.Event()
    task = asyncio.create_task(watch(reloader, stop, collect, debounce_ms=100))
    try:
        before = reloader.version
        add_example(root)
        path = root / "intents/en/main.yml"
        saves = [time.monotonic()]

        async def reloaded() -> bool:
            if not results and time.monotonic() - saves[-1] > 0.3:
                # The watcher starts a moment after the task: save again (a comment) until one is seen.
                saves.append(time.monotonic())
                path.write_text(path.read_text() + f"# save {len(saves)}\n")
            return bool(results) and reloader.version != before

        await eventually(reloaded, timeout=10)
        last = results[-1]
        assert isinstance(last, ReloadResult) and last.ok and last.diff is not None
        assert last.diff.locales[0].intents_changed == ("naloxone",)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
