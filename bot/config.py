"""Settings for the Telegram bot, from environment variables or a YAML file, validated once at start-up.

Every setting has the same name in the environment and in the optional YAML file (``--config FILE``);
the environment wins when both set one. All problems are collected and reported in one `ConfigError`,
each naming the variable and what to set it to.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote, unquote, urlsplit

import yaml

from bot.content.model import Content
from bot.errors import ConfigError
from bot.handoff.timers import HandoffLimits
from bot.hours import WeeklyHours, parse_week
from bot.state.redis_url import check_redis_url, is_cluster_url

T = TypeVar("T")

LogFormat = Literal["text", "json"]

# name -> one-line description; docs/settings.md (generated), .env.example and the deployment test
# follow this.
VARIABLES: dict[str, str] = {
    "TELEGRAM_BOT_TOKEN": "the bot token from @BotFather (required for `peerline run`)",
    "TELEGRAM_BASE_URL": "Bot API base URL for a self-hosted Bot API server, e.g. http://127.0.0.1:8081/bot",
    "REDIS_URL": "Redis URL, e.g. redis://redis:6379/0, or redis+cluster://host:port,host:port for a Redis "
    "Cluster; unset keeps state in memory (lost on restart)",
    "REDIS_PASSWORD": "Redis's password, for a REDIS_URL without one (docker compose gives it to Redis too)",
    "REDIS_CLUSTER": "off (default) or on: REDIS_URL (redis:// or rediss://) is one node of a Redis Cluster",
    "PEERLINE_REDIS_PREFIX": "prefix of every Redis key (default pl), to share one Redis between bots",
    "PEERLINE_ID_SECRET": "long random secret (16+ characters) for hashing Telegram user ids; required with "
    "REDIS_URL; never change it once in use",
    "PEERLINE_REGION": "default region code for new conversations, from resources/regions.yml "
    "(default: the content's default)",
    "PEERLINE_SESSION_TTL": "seconds a conversation is remembered after the last message (default 86400)",
    "ADMIN_IDS": "comma-separated Telegram user ids of admins",
    "SUPPORTER_IDS": "comma-separated Telegram user ids of peer supporters",
    "SUPPORTERS_CHAT_ID": "id of the supporters' group chat (used by the handoff)",
    "PEERLINE_SUPPORT_HOURS": "when supporters are on shift, e.g. 'mon-fri 09:00-21:00; sat 12:00-18:00' "
    "(default: always)",
    "PEERLINE_SUPPORT_TIMEZONE": "IANA time zone of the support hours, e.g. America/New_York (default UTC)",
    "PEERLINE_HANDOFF_REALERT": "seconds before an unclaimed conversation is announced again (default 180)",
    "PEERLINE_HANDOFF_WAIT_NOTICE": "seconds before a waiting person hears nobody is free yet (default 600)",
    "PEERLINE_HANDOFF_SILENCE": "seconds of supporter silence before the group is re-alerted (default 600)",
    "PEERLINE_HANDOFF_IDLE": "seconds of quiet before a claimed conversation gets a reminder (default 1800)",
    "PEERLINE_HANDOFF_RETURN": "further seconds of quiet before it returns to the bot (default 900)",
    "PEERLINE_BLOCK_DAYS": "days a supporter's /block lasts (default 30)",
    "PEERLINE_TOPIC_DAYS": "days an ended conversation's topic stays in the supporters' group (default 30)",
    "PEERLINE_FLOOD_LIMIT": "messages per minute per person before the bot asks to slow down (default 20)",
    "PEERLINE_RATE_LIMITER": "on (default) or off: PTB's AIORateLimiter; off for a local Bot API server",
    "PEERLINE_API_TIMEOUT": "seconds to wait for the Bot API's answer before a call is retried (default 5)",
    "PEERLINE_KEEP_UNMATCHED": "off (default) or on: keep scrubbed fallback texts 7 days (privacy trade-off)",
    "PEERLINE_LOG_LEVEL": "DEBUG, INFO (default), WARNING or ERROR",
    "PEERLINE_LOG_FORMAT": "text (key=value, default) or json (one JSON object per line)",
    "WEBHOOK_URL": "public HTTPS URL Telegram posts updates to, e.g. https://bot.example.org/telegram",
    "WEBHOOK_LISTEN": "address the webhook server binds to (default 127.0.0.1; 0.0.0.0 in Docker)",
    "WEBHOOK_PORT": "port the webhook server listens on (default 8443)",
    "WEBHOOK_SECRET": "32-256 random characters of A-Z a-z 0-9 _ -, required with --webhook; Telegram sends "
    "it with every update and requests without it are refused",
    "PEERLINE_METRICS_PORT": "port for /healthz and /metrics (Prometheus); unset: off. Worker N uses port+N",
    "PEERLINE_METRICS_LISTEN": "address the /healthz and /metrics server binds to (default 127.0.0.1)",
}

DEFAULT_SESSION_TTL = 86_400
DEFAULT_FLOOD_LIMIT = 20
DEFAULT_BLOCK_DAYS = 30
DEFAULT_TOPIC_DAYS = 30
DEFAULT_WEBHOOK_LISTEN = "127.0.0.1"
DEFAULT_WEBHOOK_PORT = 8443
DEFAULT_REDIS_PREFIX = "pl"
DEFAULT_METRICS_LISTEN = "127.0.0.1"
DEFAULT_API_TIMEOUT = 5.0
MIN_ID_SECRET_CHARS = 16  # not raised: the ID secret can never change, and older deployments use 16+
MIN_WEBHOOK_SECRET_CHARS = 32
MIN_DISTINCT_SECRET_CHARS = 8  # 'aaaaaaaaaaaaaaaa' or '1212121212121212' is long but guessable

_TOKEN_RE = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{1,200}")
_WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_PREFIX_RE = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_ON = frozenset({"on", "true", "yes", "1"})
_OFF = frozenset({"off", "false", "no", "0"})
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_SECRET_HINT = "e.g. the output of `python -c 'import secrets; print(secrets.token_hex(32))'`"


@dataclass(frozen=True)
class Settings:
    """Everything the bot reads from its environment; secrets are kept out of `repr`."""

    telegram_bot_token: str | None = field(default=None, repr=False)
    telegram_base_url: str | None = None
    redis_url: str | None = field(default=None, repr=False)
    redis_cluster: bool = False  # REDIS_URL names a Redis Cluster (redis+cluster:// or REDIS_CLUSTER=on)
    redis_prefix: str = DEFAULT_REDIS_PREFIX
    id_secret: str = field(default="", repr=False)
    id_secret_generated: bool = False
    region: str | None = None
    session_ttl: int = DEFAULT_SESSION_TTL
    admin_ids: frozenset[int] = frozenset()
    supporter_ids: frozenset[int] = frozenset()
    supporters_chat_id: int | None = None
    flood_limit: int = DEFAULT_FLOOD_LIMIT
    support_hours: WeeklyHours = field(default_factory=WeeklyHours.always)
    handoff_limits: HandoffLimits = field(default_factory=HandoffLimits)
    block_days: int = DEFAULT_BLOCK_DAYS
    topic_days: int = DEFAULT_TOPIC_DAYS
    rate_limiter: bool = True
    api_timeout: float = DEFAULT_API_TIMEOUT
    keep_unmatched: bool = False
    log_level: str = "INFO"
    log_format: LogFormat = "text"
    webhook_url: str | None = None
    webhook_listen: str = DEFAULT_WEBHOOK_LISTEN
    webhook_port: int = DEFAULT_WEBHOOK_PORT
    webhook_secret: str | None = field(default=None, repr=False)
    metrics_port: int | None = None
    metrics_listen: str = DEFAULT_METRICS_LISTEN

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str],
        config_file: Path | None = None,
        *,
        require_token: bool = False,
        webhook: bool = False,
    ) -> Settings:
        """Read, validate and return the settings, or raise one `ConfigError` listing every problem."""
        values = _read_config_file(config_file) if config_file else {}
        values.update({k: v for k, v in environ.items() if k in VARIABLES and v.strip()})
        reader = _Reader(values)
        settings = reader.settings(require_token=require_token, webhook=webhook)
        reader.raise_if_problems()
        return settings

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a log line (the token, its secret half, other secrets)."""
        found: list[str] = []
        if self.telegram_bot_token:
            found += [self.telegram_bot_token, self.telegram_bot_token.partition(":")[2]]
        found += [s for s in (self.webhook_secret, self.id_secret) if s]
        password = urlsplit(self.redis_url).password if self.redis_url else None
        if password:
            found += [password, unquote(password)]
        # Every length: a short Redis password is still a password (the long secrets are checked at start).
        return tuple(s for s in found if s)

    @property
    def webhook_path(self) -> str:
        """The URL path of WEBHOOK_URL without the leading slash; the local server listens there."""
        return urlsplit(self.webhook_url or "").path.lstrip("/")

    @property
    def base_file_url(self) -> str | None:
        """The file URL of a self-hosted Bot API server, derived from TELEGRAM_BASE_URL."""
        base = self.telegram_base_url
        if base and base.rstrip("/").endswith("/bot"):
            return base.rstrip("/")[: -len("/bot")] + "/file/bot"
        return None

    def startup_warnings(self) -> tuple[str, ...]:
        """key=value lines worth a warning at start-up: settings that are allowed but lose something."""
        notes = []
        if not self.redis_url:
            notes.append(
                "event=config_warning setting=REDIS_URL "
                "note=unset_sessions_kept_in_memory_and_lost_on_restart"
            )
        if self.id_secret_generated:
            notes.append(
                "event=config_warning setting=PEERLINE_ID_SECRET note=unset_random_per_process_secret_in_use"
            )
        if not self.rate_limiter:
            notes.append("event=config_warning setting=PEERLINE_RATE_LIMITER note=off_sends_not_throttled")
        return tuple(notes)

    def check_region(self, content: Content) -> None:
        """Raise `ConfigError` if PEERLINE_REGION names a region the content does not have."""
        if self.region and self.region not in content.regions:
            known = ", ".join(sorted(content.regions))
            raise ConfigError(
                f"PEERLINE_REGION is '{self.region}', which is not in resources/regions.yml; "
                f"set it to one of: {known}"
            )


def _read_config_file(path: Path) -> dict[str, str]:
    """The YAML file as environment-style strings; unknown keys are errors (they are usually typos)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"cannot read the config file {path}: {exc.strerror}; check the --config path"
        ) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"the config file {path} is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"the config file {path} must be a mapping of VARIABLE: value")
    unknown = sorted(str(k) for k in data if k not in VARIABLES)
    if unknown:
        raise ConfigError(
            f"the config file {path} has unknown keys: {', '.join(unknown)}; "
            f"use the environment variable names, e.g. {', '.join(list(VARIABLES)[:3])}"
        )
    return {str(k): _as_text(v) for k, v in data.items() if v is not None}


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


class _Reader:
    """Parses each variable, collecting problems instead of stopping at the first."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = {k: v.strip() for k, v in values.items()}
        self.problems: list[str] = []

    def raise_if_problems(self) -> None:
        if self.problems:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            raise ConfigError(f"the settings are not valid:\n{lines}")

    def problem(self, name: str, message: str) -> None:
        self.problems.append(f"{name} {message}")

    def text(self, name: str) -> str | None:
        return self.values.get(name) or None

    def parsed(self, name: str, parse: Callable[[str], T], default: T, expected: str) -> T:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            return parse(raw)
        except ValueError:
            self.problem(name, f"is '{raw}'; set it to {expected}")
            return default

    def support_hours(self) -> WeeklyHours:
        spec = self.text("PEERLINE_SUPPORT_HOURS") or ""
        try:
            return parse_week(spec, self.text("PEERLINE_SUPPORT_TIMEZONE") or "UTC")
        except ConfigError as exc:
            self.problem("PEERLINE_SUPPORT_HOURS", f"is not valid: {exc}")
            return WeeklyHours.always()

    def handoff_limits(self) -> HandoffLimits:
        default = HandoffLimits()
        seconds = "a whole number of seconds, e.g. 600"
        return HandoffLimits(
            realert_after=self.parsed(
                "PEERLINE_HANDOFF_REALERT", _positive_int, int(default.realert_after), seconds
            ),
            tell_person_after=self.parsed(
                "PEERLINE_HANDOFF_WAIT_NOTICE", _positive_int, int(default.tell_person_after), seconds
            ),
            silence_after=self.parsed(
                "PEERLINE_HANDOFF_SILENCE", _positive_int, int(default.silence_after), seconds
            ),
            idle_after=self.parsed("PEERLINE_HANDOFF_IDLE", _positive_int, int(default.idle_after), seconds),
            return_after=self.parsed(
                "PEERLINE_HANDOFF_RETURN", _positive_int, int(default.return_after), seconds
            ),
        )

    def settings(self, *, require_token: bool, webhook: bool) -> Settings:
        token = self.text("TELEGRAM_BOT_TOKEN")
        if token is None and (require_token or webhook):
            self.problem("TELEGRAM_BOT_TOKEN", "is not set; set it to the token @BotFather gave you")
        elif token is not None and not _TOKEN_RE.fullmatch(token):
            self.problem("TELEGRAM_BOT_TOKEN", "does not look like a bot token; set it to '123456:ABC...'")

        base_url = self.text("TELEGRAM_BASE_URL")
        if base_url and urlsplit(base_url).scheme not in ("http", "https"):
            self.problem(
                "TELEGRAM_BASE_URL", "must start with http:// or https://, e.g. http://127.0.0.1:8081/bot"
            )

        redis_url = self.text("REDIS_URL")
        password = self.text("REDIS_PASSWORD")
        if redis_url and password:
            redis_url = with_password(redis_url, password)
        elif password:
            self.problem(
                "REDIS_PASSWORD", "is set but REDIS_URL is not; set REDIS_URL, e.g. redis://redis:6379/0"
            )
        cluster_switch = self.parsed("REDIS_CLUSTER", _switch, False, "on or off")
        url_problem = check_redis_url(redis_url, cluster_switch) if redis_url else None
        if url_problem:
            self.problem("REDIS_URL", url_problem)
        if cluster_switch and not redis_url:
            self.problem("REDIS_CLUSTER", "is on but REDIS_URL is not set; set REDIS_URL to a cluster node")
        redis_cluster = bool(redis_url) and (cluster_switch or is_cluster_url(redis_url or ""))
        prefix = self.text("PEERLINE_REDIS_PREFIX") or DEFAULT_REDIS_PREFIX
        if not _PREFIX_RE.fullmatch(prefix):
            self.problem("PEERLINE_REDIS_PREFIX", "must be 1-32 letters, digits, '.', '_' or '-'")

        id_secret = self.text("PEERLINE_ID_SECRET")
        generated = False
        if id_secret is None:
            if redis_url:
                self.problem(
                    "PEERLINE_ID_SECRET",
                    "is not set but REDIS_URL is; set it to a long random value that never changes "
                    f"({_SECRET_HINT}), or stored conversations can't be found after a restart",
                )
            id_secret, generated = secrets.token_hex(32), True
        elif len(id_secret) < MIN_ID_SECRET_CHARS:
            self.problem(
                "PEERLINE_ID_SECRET",
                f"is shorter than {MIN_ID_SECRET_CHARS} characters; set a long random value ({_SECRET_HINT})",
            )
        elif _guessable(id_secret):
            self.problem(
                "PEERLINE_ID_SECRET",
                f"has fewer than {MIN_DISTINCT_SECRET_CHARS} different characters, so it can be guessed; "
                f"set a long random value ({_SECRET_HINT})",
            )

        webhook_url = self.text("WEBHOOK_URL")
        webhook_secret = self.text("WEBHOOK_SECRET")
        if webhook_url and urlsplit(webhook_url).scheme not in ("http", "https"):
            self.problem("WEBHOOK_URL", "must be a full URL, e.g. https://bot.example.org/telegram")
        if webhook and not webhook_url:
            self.problem(
                "WEBHOOK_URL", "is not set; --webhook needs the public HTTPS URL Telegram should post to"
            )
        if webhook and not webhook_secret:
            self.problem(
                "WEBHOOK_SECRET",
                f"is not set; --webhook needs 32-256 random characters of A-Z a-z 0-9 _ - ({_SECRET_HINT})",
            )
        if webhook_secret and not _WEBHOOK_SECRET_RE.fullmatch(webhook_secret):
            self.problem("WEBHOOK_SECRET", "must be made of A-Z a-z 0-9 _ - only, at most 256 characters")
        elif webhook_secret and (
            len(webhook_secret) < MIN_WEBHOOK_SECRET_CHARS or _guessable(webhook_secret)
        ):
            self.problem(
                "WEBHOOK_SECRET",
                f"is too easy to guess; set {MIN_WEBHOOK_SECRET_CHARS} or more random characters "
                f"of A-Z a-z 0-9 _ - ({_SECRET_HINT})",
            )

        log_level = (self.text("PEERLINE_LOG_LEVEL") or "INFO").upper()
        if log_level not in _LOG_LEVELS:
            self.problem("PEERLINE_LOG_LEVEL", f"is '{log_level}'; set it to one of {', '.join(_LOG_LEVELS)}")
            log_level = "INFO"
        log_format = (self.text("PEERLINE_LOG_FORMAT") or "text").lower()
        if log_format not in ("text", "json"):
            self.problem("PEERLINE_LOG_FORMAT", f"is '{log_format}'; set it to text or json")
            log_format = "text"

        return Settings(
            telegram_bot_token=token,
            telegram_base_url=base_url,
            redis_url=redis_url,
            redis_cluster=redis_cluster,
            redis_prefix=prefix,
            id_secret=id_secret,
            id_secret_generated=generated,
            region=(self.text("PEERLINE_REGION") or "").lower() or None,
            session_ttl=self.parsed(
                "PEERLINE_SESSION_TTL",
                _positive_int,
                DEFAULT_SESSION_TTL,
                "a whole number of seconds, e.g. 86400",
            ),
            admin_ids=self.parsed(
                "ADMIN_IDS", _id_set, frozenset(), "comma-separated numeric user ids, e.g. 111,222"
            ),
            supporter_ids=self.parsed(
                "SUPPORTER_IDS", _id_set, frozenset(), "comma-separated numeric user ids, e.g. 111,222"
            ),
            supporters_chat_id=self.parsed(
                "SUPPORTERS_CHAT_ID", _optional_int, None, "the numeric chat id, e.g. -1001234567890"
            ),
            flood_limit=self.parsed(
                "PEERLINE_FLOOD_LIMIT",
                _positive_int,
                DEFAULT_FLOOD_LIMIT,
                "a whole number of messages per minute, e.g. 20",
            ),
            support_hours=self.support_hours(),
            handoff_limits=self.handoff_limits(),
            block_days=self.parsed(
                "PEERLINE_BLOCK_DAYS", _positive_int, DEFAULT_BLOCK_DAYS, "a number of days"
            ),
            topic_days=self.parsed(
                "PEERLINE_TOPIC_DAYS", _positive_int, DEFAULT_TOPIC_DAYS, "a number of days, e.g. 30"
            ),
            rate_limiter=self.parsed("PEERLINE_RATE_LIMITER", _switch, True, "on or off"),
            api_timeout=self.parsed(
                "PEERLINE_API_TIMEOUT", _positive_seconds, DEFAULT_API_TIMEOUT, "a number of seconds, e.g. 5"
            ),
            keep_unmatched=self.parsed("PEERLINE_KEEP_UNMATCHED", _switch, False, "on or off"),
            log_level=log_level,
            log_format="json" if log_format == "json" else "text",
            webhook_url=webhook_url,
            webhook_listen=self.text("WEBHOOK_LISTEN") or DEFAULT_WEBHOOK_LISTEN,
            webhook_port=self.parsed(
                "WEBHOOK_PORT", _port, DEFAULT_WEBHOOK_PORT, "a port number between 1 and 65535"
            ),
            webhook_secret=webhook_secret,
            metrics_port=self.parsed(
                "PEERLINE_METRICS_PORT", _port, None, "a port number between 1 and 65535"
            ),
            metrics_listen=self.text("PEERLINE_METRICS_LISTEN") or DEFAULT_METRICS_LISTEN,
        )


def _guessable(secret: str) -> bool:
    return len(set(secret)) < MIN_DISTINCT_SECRET_CHARS


def with_password(url: str, password: str) -> str:
    """The Redis URL with this password, unless the URL already carries one (the URL then wins)."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme == "unix" or "@" in rest.split("/", 1)[0]:
        return url
    return f"{scheme}://:{quote(password, safe='')}@{rest}"


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError(raw)
    return value


def _positive_seconds(raw: str) -> float:
    value = float(raw)
    if not 0 < value < 3600:  # also refuses nan and inf
        raise ValueError(raw)
    return value


def _port(raw: str) -> int:
    value = int(raw)
    if not 1 <= value <= 65_535:
        raise ValueError(raw)
    return value


def _optional_int(raw: str) -> int | None:
    return int(raw)


def _id_set(raw: str) -> frozenset[int]:
    return frozenset(int(part) for part in raw.split(",") if part.strip())


def _switch(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in _ON:
        return True
    if lowered in _OFF:
        return False
    raise ValueError(raw)
