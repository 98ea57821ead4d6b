"""A real three-primary Redis Cluster on loopback ports, started once per test session and removed after.

Each node is a `redis-server --cluster-enabled yes` in its own folder of a temporary directory (no RDB,
no AOF); `redis-cli --cluster create` assigns the 16384 slots across the three. The tests need both
programs and fail (never skip) with a hint when either is missing: CI (`.ci/run`) installs them.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

PRIMARIES = 3
START_TIMEOUT = 30.0
INSTALL_HINT = (
    "The Redis Cluster tests start their own three-node cluster and need `redis-server` and `redis-cli` "
    "(Redis 7+) on PATH. Install them (Debian/Ubuntu: `sudo apt-get install redis-server redis-tools`; "
    "macOS: `brew install redis`) or run `bash .ci/run`, which installs them."
)


@dataclass(frozen=True)
class ClusterNodes:
    """Where the running cluster listens: loopback ports of its primaries."""

    ports: tuple[int, ...]

    @property
    def url(self) -> str:
        """The `redis+cluster://` URL naming every primary, as an operator would set REDIS_URL."""
        return "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in self.ports)

    @property
    def seed_url(self) -> str:
        """A plain URL of one node, for the `REDIS_CLUSTER=1` form."""
        return f"redis://127.0.0.1:{self.ports[0]}"


def _programs() -> tuple[str, str]:
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if not server or not cli:
        missing = " and ".join(
            name for name, path in (("redis-server", server), ("redis-cli", cli)) if not path
        )
        pytest.fail(f"{missing} not found. {INSTALL_HINT}", pytrace=False)
    return server, cli


def _free_ports(count: int) -> list[int]:
    """Ports the OS has just handed out as free (held together, so they differ)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _cli(cli: str, port: int, *args: str) -> str:
    done = subprocess.run(
        [cli, "-h", "127.0.0.1", "-p", str(port), *args],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )
    return done.stdout + done.stderr


def _wait_until(what: str, condition: Callable[[], bool], logs: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            tails = "\n".join(
                f"--- {p.name}\n{p.read_text()[-800:]}" for p in sorted(logs.glob("*/node.log"))
            )
            pytest.fail(
                f"Redis Cluster test nodes: {what} within {START_TIMEOUT:.0f}s\n{tails}", pytrace=False
            )
        time.sleep(0.05)  # polling a child process's state; there is no event to wait on


def _cluster_ok(cli: str, port: int) -> bool:
    info = _cli(cli, port, "CLUSTER", "INFO")
    return "cluster_state:ok" in info and f"cluster_known_nodes:{PRIMARIES}" in info


@contextmanager
def running_cluster() -> Iterator[ClusterNodes]:
    """Start the nodes, create the cluster, wait until every node says it is healthy; stop, delete after."""
    server, cli = _programs()
    version = subprocess.run([server, "--version"], capture_output=True, text=True, check=False).stdout
    if "v=" in version and int(version.split("v=")[1].split(".")[0]) < 7:
        pytest.fail(f"redis-server is too old ({version.strip()}). {INSTALL_HINT}", pytrace=False)
    ports = _free_ports(2 * PRIMARIES)
    nodes = ClusterNodes(tuple(ports[:PRIMARIES]))
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="peerline-cluster-") as tmp:
        root = Path(tmp)
        try:
            for port, bus in zip(nodes.ports, ports[PRIMARIES:], strict=True):
                folder = root / str(port)
                folder.mkdir()
                options = {
                    "port": str(port),
                    "bind": "127.0.0.1",
                    "cluster-enabled": "yes",
                    "cluster-port": str(bus),  # the cluster bus, on a port known to be free too
                    "cluster-config-file": str(folder / "nodes.conf"),
                    "cluster-node-timeout": "5000",
                    "dir": str(folder),
                    "logfile": str(folder / "node.log"),
                    "appendonly": "no",
                    "save": "",
                    "daemonize": "no",
                }
                argv = [server, *(arg for name, value in options.items() for arg in (f"--{name}", value))]
                processes.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            for port in nodes.ports:
                _wait_until(
                    f"node {port} did not answer PING", lambda p=port: "PONG" in _cli(cli, p, "PING"), root
                )
            created = _cli(
                cli,
                nodes.ports[0],
                "--cluster",
                "create",
                *(f"127.0.0.1:{port}" for port in nodes.ports),
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            )
            if "All 16384 slots covered" not in created:
                pytest.fail(f"redis-cli --cluster create failed:\n{created}", pytrace=False)
            for port in nodes.ports:
                _wait_until(
                    f"node {port} did not reach cluster_state:ok", lambda p=port: _cluster_ok(cli, p), root
                )
            yield nodes
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
