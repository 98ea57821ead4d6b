"""The aiohttp transport maps pool waits, timeouts and dropped connections onto PTB's errors.

The bot's end-to-end fault tests (tests/test_faults_bot_api.py) cover 5xx, stalls and resets through the
whole bot; these pin the parts only the transport decides: a full pool, shutdown and re-initialising, and
the proxy variables.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web
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


class CountingProxy:
    """A plain HTTP forward proxy on loopback that counts the requests it passes on."""

    def __init__(self) -> None:
        self.forwarded = 0
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> CountingProxy:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._client = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._client is not None
        self.forwarded += 1
        target = str(request.url)  # a proxy is sent the absolute URL
        headers = {"Content-Type": request.headers.get("Content-Type", "application/octet-stream")}
        body = await request.read()
        async with self._client.request(request.method, target, data=body, headers=headers) as res:
            return web.Response(status=res.status, body=await res.read(), content_type=res.content_type)


async def test_requests_go_through_the_proxy_the_environment_names_unless_no_proxy_names_the_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with FakeTelegram() as tg, CountingProxy() as proxy:
        for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("http_proxy", proxy.url)
        request = AiohttpRequest(connection_pool_size=2)
        await request.initialize()
        try:
            for _ in range(3):
                assert (await request.post(tg.api_url("getMe")))["username"] == tg.bot_username
            assert proxy.forwarded == 3
        finally:
            await request.shutdown()

        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        monkeypatch.setenv("no_proxy", "127.0.0.1")
        await request.initialize()  # a restart reads the environment again
        try:
            assert (await request.post(tg.api_url("getMe")))["username"] == tg.bot_username
            assert proxy.forwarded == 3
            assert len(tg.calls_to("getMe")) == 4
        finally:
            await request.shutdown()
