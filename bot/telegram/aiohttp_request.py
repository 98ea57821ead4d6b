"""Bot API requests over aiohttp: PTB's `BaseRequest` with pooled keep-alive connections.

Why not PTB's default `HTTPXRequest`: httpcore's connection pool rescans every connection and every
queued request on each request (quadratic in the requests in flight) and checks each pooled socket's
attributes through anyio; under load that cost more CPU per reply than the bot's own work
(`bench/bench_load.py`). aiohttp keeps idle connections in a per-host queue.

Proxies: the environment's proxy variables (`HTTPS_PROXY`, `NO_PROXY`, ...) are honoured as httpx honours
them, but read once per host rather than by aiohttp's `trust_env`, which reads them, and stats `~/.netrc` on
a worker thread, for every request (measured at a fifth of the bot's CPU per reply).

Errors and timeouts map onto PTB's exceptions as `HTTPXRequest` maps them: any timeout is `TimedOut`
(a full pool too, with PTB's "not sent" message), any other transport failure is `NetworkError`, so the
retry policy (`bot/telegram/retry.py`) and PTB's polling loop see the same errors as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
POOL_TIMEOUT_MESSAGE = (
    "Pool timeout: All connections in the connection pool are occupied. "
    "Request was *not* sent to Telegram. Consider adjusting the connection pool size or the pool timeout."
)


class AiohttpRequest(BaseRequest):
    """`BaseRequest` on one `aiohttp.ClientSession`; the same arguments and defaults as `HTTPXRequest`.

    Timeouts: `connect_timeout` bounds resolving and connecting, `read_timeout` each wait for data from
    Telegram, `pool_timeout` the wait for one of the `connection_pool_size` connections. aiohttp has no
    write timeout of its own: the read timer runs while the request is written. A form of parameters is
    written at once, so the read timeout alone bounds it; an upload waits for the larger of the read timeout
    and the write timeout (`media_write_timeout` by default).
    """

    __slots__ = (
        "_before",
        "_connect",
        "_media_write",
        "_pool",
        "_pool_size",
        "_proxies",
        "_read",
        "_session",
        "_slots",
        "_write",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        before_request: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._slots = asyncio.Semaphore(connection_pool_size)
        self._proxies: dict[tuple[str, str | None, int | None], Proxy] = {}
        self._before = before_request  # e.g. the poller waiting for room (bot/telegram/update_queue.py)

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout in seconds (PTB adds it to getUpdates' long-polling timeout)."""
        return self._read

    async def initialize(self) -> None:
        """Open the session (in the running loop, as aiohttp requires); again after a shutdown."""
        if self._session is None or self._session.closed:
            self._slots = asyncio.Semaphore(self._pool_size)  # bound to this loop on first use
            self._proxies = {}  # the environment is read again after a restart
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                skip_auto_headers=("Accept-Encoding",),  # Telegram's answers are small JSON
                trust_env=False,  # the proxy variables are read once per host instead (`_proxy_for`)
            )

    async def shutdown(self) -> None:
        """Close the session and its pooled connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See `BaseRequest.do_request`."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        if self._before is not None:
            await self._before()
        uploads = request_data.multipart_data if request_data else None
        read = self._read if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool if isinstance(pool_timeout, DefaultValue) else pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write = self._write if not uploads else self._media_write
        else:
            write = write_timeout
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=connect,
            sock_connect=connect,
            sock_read=_longer(read, write) if uploads else read,
        )
        body: Any = None
        headers: dict[str, str] | None = None
        if uploads:
            body = _multipart(request_data, uploads) if request_data else None
        elif request_data is not None and request_data.parameters:
            body = request_data.url_encoded_parameters().encode()
            headers = FORM
        if self._slots.locked():  # every connection busy: wait at most the pool timeout
            try:
                async with asyncio.timeout(pool):
                    await self._slots.acquire()
            except TimeoutError as err:
                raise TimedOut(message=POOL_TIMEOUT_MESSAGE) from err
        else:
            await self._slots.acquire()
        try:
            to = URL(url)  # parsed once, for the proxy lookup and for aiohttp
            via = self._proxy_for(to)
            async with session.request(
                method, to, data=body, headers=headers, timeout=timeout, proxy=via.url, proxy_auth=via.auth
            ) as res:
                return res.status, await res.read()
        except TimeoutError as err:  # aiohttp's timeouts are TimeoutError subclasses
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err
        finally:
            self._slots.release()

    def _proxy_for(self, url: URL) -> Proxy:
        """The proxy the environment names for this URL's scheme and host (no proxy: `Proxy()`)."""
        key = (url.scheme, url.host, url.port)
        found = self._proxies.get(key)
        if found is None:
            try:
                proxy_url, auth = get_env_proxy_for_url(url)
                found = Proxy(proxy_url, auth)
            except LookupError:  # none set, or NO_PROXY names the host
                found = Proxy()
            self._proxies[key] = found
        return found


@dataclass(frozen=True)
class Proxy:
    """Where to send requests for one host: through `url` (with `auth`), or straight there when None."""

    url: URL | None = None
    auth: aiohttp.BasicAuth | None = None


def _longer(read: float | None, write: float | None) -> float | None:
    """For an upload the read timer also covers writing the file, so it waits for the longer of the two."""
    if read is None or write is None:
        return None
    return max(read, write)


def _multipart(request_data: RequestData, uploads: dict[str, Any]) -> aiohttp.FormData:
    """multipart/form-data: the parameters as fields (as `HTTPXRequest` sends them), then the files."""
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in uploads.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
