"""The aiohttp transport maps pool waits, timeouts and dropped connections onto PTB's errors.

The bot's end-to-end fault tests (tests/test_faults_bot_api.py) cover 5xx, stalls and resets through the
whole bot; these pin the parts only the transport decides: a full pool, shutdown and re-initialising.
"""

from __future__ import annotations

import asyncio

import pytest
from telegram.error import NetworkError, TimedOut

from bot.telegram.aiohttp_request import AiohttpRequest
from tests.fake_telegram import FakeTelegram


async def test_a_request_that_waits_too_long_for_a_connection_is_timed_out_and_never_sent() -> None:
    async with FakeTelegram() as tg:
        request = AiohttpRequest(connection_pool_size=1, pool_timeout=0.2, read_timeout=5)
        await request.initialize()
        try:
            tg.stall_next("getMe", 1.0)
            first = asyncio.create_task(request.post(tg.api_url("getMe")))
            await tg.wait_for(lambda: len(tg.calls_to("getMe")) == 1 or None, 5, description="first call")
            with pytest.raises(TimedOut, match="Pool timeout"):
                await request.post(tg.api_url("getMe"))
            assert (await first)["username"] == tg.bot_username
            assert len(tg.calls_to("getMe")) == 1
        finally:
            await request.shutdown()


async def test_a_stalled_answer_is_timed_out_and_a_dropped_connection_is_a_network_error() -> None:
    async with FakeTelegram() as tg:
        request = AiohttpRequest(connection_pool_size=2, read_timeout=0.2)
        await request.initialize()
        try:
            tg.stall_next("getMe", 1.0)
            with pytest.raises(TimedOut):
                await request.post(tg.api_url("getMe"))
            tg.reset_next("getMe")
            with pytest.raises(NetworkError):
                await request.post(tg.api_url("getMe"))
            assert (await request.post(tg.api_url("getMe")))["username"] == tg.bot_username
        finally:
            await request.shutdown()


async def test_requests_outside_initialize_and_shutdown_fail_clearly_and_work_again_after_initialize() -> (
    None
):
    async with FakeTelegram() as tg:
        request = AiohttpRequest(connection_pool_size=1)
        with pytest.raises(NetworkError, match="not initialized"):
            await request.post(tg.api_url("getMe"))
        await request.initialize()
        await request.shutdown()
        with pytest.raises(NetworkError, match="not initialized"):
            await request.post(tg.api_url("getMe"))
        await request.initialize()
        try:
            assert (await request.post(tg.api_url("getMe")))["username"] == tg.bot_username
        finally:
            await request.shutdown()
