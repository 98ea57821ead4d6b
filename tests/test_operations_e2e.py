"""Operations, end to end: /healthz and /metrics on their own port, and two webhook workers sharing Redis.

The workers test puts a small reverse proxy in front of two real PTB Applications, as nginx would: the
person's updates go to worker A, the supporters' group's to worker B, and a whole handoff still works,
because every bit of its state is in Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.brain import Brain
from bot.config import Settings
from bot.telegram.application import build_application
from bot.telegram.run import open_store, serve
from bot.usage import UsageStats
from tests.fake_telegram import SECRET_HEADER, FakeTelegram, free_port
from tests.redis_support import REDIS_URL, reachable_redis
from tests.telegram_harness import (
    ALICE,
    GROUP,
    ID_SECRET,
    UNREACHABLE_REDIS_URL,
    WEBHOOK_SECRET,
    StartBot,
    bot_factory,
    eventually,
)
from tests.test_handoff_e2e import SAM, Clock


@pytest.fixture
async def start_bot(brain: Brain) -> AsyncIterator[StartBot]:
    async with bot_factory(brain) as start:
        yield start


async def get(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as resp:
        return resp.status, await resp.text()


async def test_healthz_reports_redis_and_content_and_metrics_count_updates(start_bot: StartBot) -> None:
    port = free_port()
    bot = await start_bot(PEERLINE_METRICS_PORT=str(port))
    status, body = await get(port, "/healthz")
    content = bot.engine.brain.content
    assert status == 200
    assert json.loads(body) == {
        "status": "ok",
        "redis": "ok",
        "content": bot.app.bot_data["engine"].brain.content.version,
        "intents": sum(len(content.locale(code).intents) for code in content.locales),
    }
    await bot.tg.send_text(ALICE, "how do i use naloxone")
    await bot.tg.send_text(ALICE, "my friend is not breathing")
    await bot.replies(ALICE, 2)

    async def counted() -> bool:
        return "peerline_crisis_replies_total 1.0" in (await get(port, "/metrics"))[1]

    await eventually(counted)
    _, metrics = await get(port, "/metrics")
    assert 'peerline_updates_total{kind="text"} 2.0' in metrics
    assert 'peerline_replies_total{reply="engine"} 2.0' in metrics
    assert 'peerline_intents_total{intent="naloxone"} 1.0' in metrics
    assert "peerline_update_latency_seconds_count 2.0" in metrics
    assert "peerline_fallbacks_total 0.0" in metrics
    assert str(ALICE) not in metrics and 'naloxone"} 1.0' in metrics  # labels are intents, never people


async def test_healthz_is_503_when_redis_is_unreachable(start_bot: StartBot) -> None:
    port = free_port()
    await start_bot(redis_url=UNREACHABLE_REDIS_URL, PEERLINE_METRICS_PORT=str(port))
    status, body = await get(port, "/healthz")
    assert status == 503
    assert json.loads(body)["redis"] == "down" and json.loads(body)["status"] == "unavailable"


@contextlib.asynccontextmanager
async def reverse_proxy(route: dict[str, int], seen: list[tuple[int, int]]) -> AsyncIterator[int]:
    """Forwards each update to the worker port `route` picks: "person" or "group" by the update's chat."""
    http = aiohttp.ClientSession()

    async def forward(request: web.Request) -> web.Response:
        update: dict[str, Any] = await request.json()
        message = update.get("message") or (update.get("callback_query") or {}).get("message") or {}
        chat = message.get("chat", {}).get("id")
        target = route["group"] if chat == GROUP else route["person"]
        seen.append((target, chat))
        headers = {SECRET_HEADER: request.headers.get(SECRET_HEADER, "")}
        async with http.post(f"http://127.0.0.1:{target}/telegram", json=update, headers=headers) as resp:
            return web.Response(status=resp.status)

    app = web.Application()
    app.router.add_post("/telegram", forward)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield port
    finally:
        await runner.cleanup()
        await http.close()


async def test_two_webhook_workers_carry_one_handoff_between_them(brain: Brain) -> None:
    admin = await reachable_redis()
    prefix = f"pltest-{secrets.token_hex(6)}"
    workers = {"person": free_port(), "group": free_port()}
    clock = Clock()
    seen: list[tuple[int, int]] = []
    stops: list[tuple[asyncio.Event, asyncio.Task[None]]] = []
    try:
        async with FakeTelegram() as tg, reverse_proxy(workers, seen) as proxy:
            tg.register_chat(GROUP, "supergroup", title="Peer supporters", is_forum=True)
            for port in workers.values():
                env = {
                    "TELEGRAM_BOT_TOKEN": tg.token,
                    "TELEGRAM_BASE_URL": tg.base_url,
                    "REDIS_URL": REDIS_URL,
                    "PEERLINE_REDIS_PREFIX": prefix,
                    "PEERLINE_ID_SECRET": ID_SECRET,
                    "SUPPORTERS_CHAT_ID": str(GROUP),
                    "SUPPORTER_IDS": str(SAM),
                    "WEBHOOK_URL": f"http://127.0.0.1:{proxy}/telegram",  # the public URL: the proxy
                    "WEBHOOK_LISTEN": "127.0.0.1",
                    "WEBHOOK_PORT": str(port),
                    "WEBHOOK_SECRET": WEBHOOK_SECRET,
                }
                settings = Settings.load(env, require_token=True, webhook=True)
                store = open_store(settings)
                app = build_application(settings, brain, store, typing_after=None, clock=clock, sweep=False)
                stop = asyncio.Event()
                task = asyncio.create_task(serve(app, settings, webhook=True, store=store, stop=stop))
                stops.append((stop, task))

                async def up(app: Any = app, task: asyncio.Task[None] = task) -> bool:
                    if task.done():
                        task.result()
                    return bool(app.running)

                await eventually(up)

            async def person_says(text: str) -> None:
                await tg.send_text(ALICE, text)

            def to_alice() -> list[str]:
                return [str(c.params["text"]) for c in tg.calls_to("sendMessage", ALICE) if c.ok]

            await person_says("/human")
            await tg.wait_for(lambda: len(to_alice()) >= 1, description="the offer")
            await person_says("yes")
            await tg.wait_for(lambda: any("number 1" in t for t in to_alice()), description="queued")
            [created] = await tg.wait_for_calls("createForumTopic", 1)
            topic = int(created.result["message_thread_id"])

            def card() -> Any:
                return next(
                    (
                        c
                        for c in tg.calls_to("sendMessage", GROUP)
                        if c.ok and "Press Claim" in c.params["text"]
                    ),
                    None,
                )

            await tg.wait_for(lambda: card() is not None, description="the card")
            ticket_data = card().params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            clock.now += 40
            await tg.press_button(SAM, ticket_data, int(card().result["message_id"]), chat_id=GROUP)
            await tg.wait_for(lambda: any("has joined" in t for t in to_alice()), description="joined")

            await person_says("thanks for coming")
            await tg.wait_for(
                lambda: any(c.ok for c in tg.calls_to("copyMessage", GROUP)),
                description="relayed to the topic",
            )
            await tg.send_text(
                SAM, "Hi, I'm here.", chat_id=GROUP, chat_type="supergroup", message_thread_id=topic
            )
            await tg.wait_for(
                lambda: any(c.ok for c in tg.calls_to("copyMessage", ALICE)), description="relayed to Alice"
            )
            await person_says("/end")
            await tg.wait_for(lambda: any("has ended" in t for t in to_alice()), description="ended")

            # The person's updates all went to one worker, the group's to the other.
            assert {target for target, chat in seen if chat == ALICE} == {workers["person"]}
            assert {target for target, chat in seen if chat == GROUP} == {workers["group"]}

            async def handoff_counted() -> bool:  # counts reach Redis within a second (bot/usage/stats.py)
                [day] = await UsageStats(admin, prefix).read(1)
                return (day.handoffs_requested, day.handoffs_claimed, day.median_wait) == (1, 1, 40.0)

            await eventually(handoff_counted)
    finally:
        for stop, _ in stops:
            stop.set()
        await asyncio.gather(*(task for _, task in stops), return_exceptions=True)
        stale = [k async for k in admin.scan_iter(match=f"{prefix}:*", count=500)]
        if stale:
            await admin.delete(*stale)
        await admin.aclose()
