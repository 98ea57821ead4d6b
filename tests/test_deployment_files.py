"""Docker and environment files: both services wired as documented, a non-root image, every setting listed."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from bot.config import VARIABLES
from bot.reload import CONTENT_FOLDERS

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = ("TELEGRAM_BOT_TOKEN", "REDIS_URL", "PEERLINE_ID_SECRET")


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if line.strip() and not line.lstrip().startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def test_compose_runs_the_bot_after_redis_is_healthy() -> None:
    bot = compose()["services"]["bot"]
    assert bot["build"] in (".", {"context": "."})
    env_files = bot["env_file"] if isinstance(bot["env_file"], list) else [bot["env_file"]]
    assert ".env" in env_files
    assert bot["depends_on"]["redis"]["condition"] == "service_healthy"


def test_compose_redis_persists_to_a_volume_and_has_a_healthcheck() -> None:
    data = compose()
    redis = data["services"]["redis"]
    assert re.fullmatch(r"redis:7-alpine@sha256:[0-9a-f]{64}", redis["image"])
    command = " ".join(redis["command"]) if isinstance(redis["command"], list) else redis["command"]
    assert "--appendonly no" in command  # see tests/test_redis_disk.py
    [volume] = redis["volumes"]
    name, _, target = volume.partition(":")
    assert target == "/data" and name in data["volumes"]
    assert redis["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    assert "ports" not in redis  # Redis stays inside the compose network


def test_compose_redis_requires_the_password_from_env_without_showing_it_in_the_process_list() -> None:
    redis = compose()["services"]["redis"]
    script = redis["command"][-1]
    assert "requirepass" in script and "redis-server -" in script  # the config, password included, on stdin
    assert "--requirepass" not in script
    assert redis["environment"]["REDIS_PASSWORD"].startswith("${REDIS_PASSWORD:?")
    assert redis["environment"]["REDISCLI_AUTH"].startswith("${REDIS_PASSWORD:?")  # for the healthcheck
    assert "REDIS_PASSWORD" in env_example()


def test_the_image_runs_as_a_non_root_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.M)
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0", "0:0")
    assert re.search(r"^RUN pip install --no-deps --no-build-isolation \.", dockerfile, re.M)
    assert dockerfile.rstrip().splitlines()[-1] == 'CMD ["peerline", "run"]'


def test_the_image_is_built_from_a_digest_and_the_hashed_lock_only() -> None:
    """Review finding 16: `pip install .` resolved fresh versions on every build, from a floating tag."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert all(re.fullmatch(r"\S+@sha256:[0-9a-f]{64}( AS \S+)?", line[5:]) for line in froms(dockerfile))
    assert "RUN pip install --no-deps --require-hashes -r requirements.lock" in dockerfile
    installs = re.findall(r"pip install[^\n&]*", dockerfile)
    assert all("--no-deps" in line for line in installs)


def froms(dockerfile: str) -> list[str]:
    return [line for line in dockerfile.splitlines() if line.startswith("FROM ")]


def test_the_lock_pins_every_dependency_with_hashes() -> None:
    lock = (ROOT / "requirements.lock").read_text()
    pinned = {
        m.group(1).lower().replace("_", "-") for m in re.finditer(r"^([A-Za-z0-9_.-]+)==\S+", lock, re.M)
    }
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement)
        assert name and name.group(0).lower().replace("_", "-") in pinned, f"{requirement} is not locked"
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", lock.split("\n\n", 1)[-1])
    assert all("--hash=sha256:" in block for block in blocks if "==" in block)


def test_env_example_lists_every_setting_and_only_real_ones() -> None:
    listed = env_example()
    for name in REQUIRED:
        assert name in listed, f"{name} missing from .env.example"
        assert name in VARIABLES, f"{name} is not read by bot/config.py"
    assert set(listed) == set(VARIABLES)
    assert listed["REDIS_URL"] == "redis://redis:6379/0"  # the compose service name


def test_every_setting_is_read_by_config() -> None:
    source = (ROOT / "bot" / "config.py").read_text()
    for name in VARIABLES:
        assert source.count(f'"{name}"') >= 2, f"{name} is documented but never read"


def test_the_image_carries_every_content_folder() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for folder in CONTENT_FOLDERS:
        if (ROOT / folder).is_dir():
            assert re.search(rf"^COPY {folder} \./{folder}$", dockerfile, re.M), (
                f"{folder}/ is not in the image"
            )
