"""Settings: read from the environment or a YAML file, validated once, every problem in one message."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.brain import Brain
from bot.config import VARIABLES, Settings
from bot.errors import ConfigError
from bot.state.redis_url import cluster_target

TOKEN = "123456:ABCdef_ghi-JKL"
SECRET = "0123456789abcdef0123"


def test_defaults_without_redis_use_memory_and_a_random_secret() -> None:
    settings = Settings.load({})
    assert settings.redis_url is None
    assert settings.id_secret_generated and len(settings.id_secret) >= 32
    assert Settings.load({}).id_secret != settings.id_secret  # per process, not a fixed default
    assert (settings.session_ttl, settings.flood_limit, settings.webhook_port) == (86_400, 20, 8443)
    assert settings.rate_limiter and settings.log_format == "text" and settings.log_level == "INFO"
    warnings = " ".join(settings.startup_warnings())
    assert "REDIS_URL" in warnings and "PEERLINE_ID_SECRET" in warnings


def test_every_variable_is_read_from_the_environment() -> None:
    settings = Settings.load(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": "http://127.0.0.1:8081/bot",
            "REDIS_URL": "redis://redis:6379/0",
            "PEERLINE_REDIS_PREFIX": "peer",
            "PEERLINE_ID_SECRET": SECRET,
            "PEERLINE_REGION": "UK",
            "PEERLINE_SESSION_TTL": "3600",
            "ADMIN_IDS": "1, 2",
            "SUPPORTER_IDS": "3",
            "SUPPORTERS_CHAT_ID": "-1001234",
            "PEERLINE_FLOOD_LIMIT": "5",
            "PEERLINE_RATE_LIMITER": "off",
            "PEERLINE_LOG_LEVEL": "debug",
            "PEERLINE_LOG_FORMAT": "json",
            "WEBHOOK_URL": "https://bot.example.org/hooks/telegram",
            "WEBHOOK_LISTEN": "0.0.0.0",
            "WEBHOOK_PORT": "8080",
            "WEBHOOK_SECRET": "abc_DEF-123" * 3,
        },
        require_token=True,
        webhook=True,
    )
    assert settings.telegram_bot_token == TOKEN
    assert settings.base_file_url == "http://127.0.0.1:8081/file/bot"
    assert (settings.redis_prefix, settings.region, settings.session_ttl) == ("peer", "uk", 3600)
    assert settings.admin_ids == {1, 2} and settings.supporter_ids == {3}
    assert settings.supporters_chat_id == -1001234
    assert (settings.flood_limit, settings.rate_limiter) == (5, False)
    assert (settings.log_level, settings.log_format) == ("DEBUG", "json")
    assert settings.webhook_path == "hooks/telegram"
    assert (settings.webhook_listen, settings.webhook_port) == ("0.0.0.0", 8080)
    assert not settings.id_secret_generated


def test_all_problems_are_reported_in_one_error_naming_each_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.load(
            {
                "REDIS_URL": "redis://redis:6379/0",
                "PEERLINE_SESSION_TTL": "a day",
                "PEERLINE_FLOOD_LIMIT": "0",
                "WEBHOOK_SECRET": "has spaces!",
                "PEERLINE_LOG_FORMAT": "xml",
            },
            require_token=True,
            webhook=True,
        )
    message = str(caught.value)
    for name in (
        "TELEGRAM_BOT_TOKEN is not set",
        "PEERLINE_ID_SECRET is not set but REDIS_URL is",
        "PEERLINE_SESSION_TTL is 'a day'",
        "PEERLINE_FLOOD_LIMIT is '0'",
        "WEBHOOK_SECRET must be",
        "WEBHOOK_URL is not set",
        "PEERLINE_LOG_FORMAT is 'xml'",
    ):
        assert name in message


def test_the_token_is_required_only_to_run_and_never_echoed() -> None:
    Settings.load({})  # other commands need no token
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN is not set"):
        Settings.load({}, require_token=True)
    with pytest.raises(ConfigError) as caught:
        Settings.load({"TELEGRAM_BOT_TOKEN": "not a token at all"})
    assert "not a token at all" not in str(caught.value)


def test_secrets_stay_out_of_repr_and_are_listed_for_redaction() -> None:
    settings = Settings.load(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "PEERLINE_ID_SECRET": SECRET,
            "WEBHOOK_SECRET": "webhook-secret-0123456789abcdefgh",
            "REDIS_URL": "redis://:hunter2pass@redis:6379/0",
        }
    )
    text = repr(settings)
    for secret in (TOKEN, SECRET, "webhook-secret-0123456789abcdefgh", "hunter2pass"):
        assert secret not in text
        assert secret in settings.secrets
    assert TOKEN.partition(":")[2] in settings.secrets


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEBHOOK_SECRET", "a"),
        ("WEBHOOK_SECRET", "abc_DEF-123"),  # 11 characters
        ("WEBHOOK_SECRET", "ab" * 20),  # long, but two characters
        ("PEERLINE_ID_SECRET", "a" * 16),
        ("PEERLINE_ID_SECRET", "12" * 20),
    ],
)
def test_weak_secrets_are_refused_at_start(name: str, value: str) -> None:
    """Review finding 11: WEBHOOK_SECRET='a' and PEERLINE_ID_SECRET='a'*16 were accepted."""
    environ = {"TELEGRAM_BOT_TOKEN": TOKEN, "PEERLINE_ID_SECRET": SECRET, "WEBHOOK_SECRET": "w" * 8 + SECRET}
    with pytest.raises(ConfigError, match=name):
        Settings.load({**environ, name: value})


def test_a_short_redis_password_is_still_redacted() -> None:
    settings = Settings.load({"REDIS_URL": "redis://:pw12@redis:6379/0", "PEERLINE_ID_SECRET": SECRET})
    assert "pw12" in settings.secrets


def test_redis_password_is_added_to_a_url_without_one_and_kept_out_of_logs() -> None:
    settings = Settings.load(
        {"REDIS_URL": "redis://redis:6379/0", "REDIS_PASSWORD": "s3cr/t pw", "PEERLINE_ID_SECRET": SECRET}
    )
    assert settings.redis_url == "redis://:s3cr%2Ft%20pw@redis:6379/0"
    assert "s3cr%2Ft%20pw" in settings.secrets
    given = Settings.load(
        {"REDIS_URL": "redis://:own@redis:6379/0", "REDIS_PASSWORD": "other", "PEERLINE_ID_SECRET": SECRET}
    )
    assert given.redis_url == "redis://:own@redis:6379/0"  # a password in the URL wins


def test_a_yaml_file_gives_the_same_keys_and_the_environment_wins(tmp_path: Path) -> None:
    config = tmp_path / "peerline.yml"
    config.write_text(
        "TELEGRAM_BOT_TOKEN: '123:abc'\n"
        "ADMIN_IDS: [7, 8]\n"
        "PEERLINE_RATE_LIMITER: false\n"
        "PEERLINE_FLOOD_LIMIT: 9\n"
    )
    settings = Settings.load({"PEERLINE_FLOOD_LIMIT": "4"}, config)
    assert settings.telegram_bot_token == "123:abc"
    assert settings.admin_ids == {7, 8}
    assert settings.rate_limiter is False
    assert settings.flood_limit == 4


def test_a_yaml_file_with_an_unknown_key_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "peerline.yml"
    config.write_text("TELEGRAM_TOKEN: '123:abc'\n")
    with pytest.raises(ConfigError, match="unknown keys: TELEGRAM_TOKEN"):
        Settings.load({}, config)
    with pytest.raises(ConfigError, match="cannot read the config file"):
        Settings.load({}, tmp_path / "missing.yml")


def test_the_default_region_must_exist_in_the_content(brain: Brain) -> None:
    Settings.load({"PEERLINE_REGION": "ca"}).check_region(brain.content)
    with pytest.raises(ConfigError, match=r"PEERLINE_REGION is 'atlantis'.*one of: au, ca"):
        Settings.load({"PEERLINE_REGION": "atlantis"}).check_region(brain.content)


def test_every_variable_is_documented() -> None:
    assert all(description.strip() for description in VARIABLES.values())


def test_a_redis_cluster_url_names_every_node_and_keeps_its_password_secret() -> None:
    url = "redis+cluster://:clusterpass1@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002"
    settings = Settings.load({"REDIS_URL": url, "PEERLINE_ID_SECRET": SECRET})
    assert settings.redis_cluster and settings.redis_url == url
    assert "clusterpass1" in settings.secrets and "clusterpass1" not in repr(settings)
    target = cluster_target(url)
    assert target.nodes == (("10.0.0.1", 7000), ("10.0.0.2", 7001), ("::1", 7002))
    assert (target.password, target.tls) == ("clusterpass1", False)
    assert cluster_target("rediss+cluster://cache.example.org").nodes == (("cache.example.org", 6379),)
    assert cluster_target("rediss+cluster://cache.example.org").tls


def test_redis_cluster_switch_turns_a_plain_url_into_a_cluster_seed() -> None:
    plain = Settings.load({"REDIS_URL": "redis://10.0.0.1:7000", "PEERLINE_ID_SECRET": SECRET})
    assert not plain.redis_cluster
    switched = Settings.load(
        {"REDIS_URL": "redis://10.0.0.1:7000/0", "REDIS_CLUSTER": "on", "PEERLINE_ID_SECRET": SECRET}
    )
    assert switched.redis_cluster


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"REDIS_URL": "redis://10.0.0.1:7000/3", "REDIS_CLUSTER": "on"}, "only database 0"),
        ({"REDIS_URL": "redis+cluster://10.0.0.1:7000/2"}, "only database 0"),
        ({"REDIS_URL": "unix:///run/redis.sock", "REDIS_CLUSTER": "on"}, "reached over TCP"),
        ({"REDIS_URL": "redis+cluster://10.0.0.1:70000"}, "port from 1 to 65535"),
        ({"REDIS_URL": "redis+cluster://10.0.0.1:7000,,10.0.0.2:7000"}, "empty node"),
        ({"REDIS_URL": "redis+cluster://10.0.0.1:7000?ssl=true"}, "remove them"),
        ({"REDIS_URL": "memcached://10.0.0.1"}, "redis+cluster://"),
        ({"REDIS_CLUSTER": "on"}, "REDIS_URL is not set"),
        ({"REDIS_URL": "redis://10.0.0.1", "REDIS_CLUSTER": "maybe"}, "on or off"),
    ],
)
def test_a_redis_cluster_setting_that_cannot_work_is_refused_with_the_fix(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match="REDIS_") as caught:
        Settings.load({**environ, "PEERLINE_ID_SECRET": SECRET})
    assert message in str(caught.value)
