"""How to run private copies of the servers EcoMarket needs: Redis, RabbitMQ, nginx.

Used by the launcher (``ecomarket up``, through supervisord) and by the tests
(as plain subprocesses), so that both run the servers the same way. Each
server gets its own ports and folders, so any number of them can run beside
the machine's own Redis and RabbitMQ without meeting them.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")


@dataclass(frozen=True)
class Program:
    """A server to run: its command line, extra environment and working folder."""

    name: str
    command: list[str]
    port: int
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None

    def full_env(self) -> dict[str, str]:
        """The environment to start it with: ours plus its own."""
        return {**os.environ, **self.env}


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel's choice)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(port: int, timeout: float = 60.0, host: str = "127.0.0.1") -> None:
    """Wait until ``port`` accepts connections; TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not port_open(port, host):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f} s")
        time.sleep(0.1)


def redis_program(folder: Path, port: int, *, name: str = "redis", persist: bool = True) -> Program:
    """A private redis-server keeping its data in ``folder`` (append-only file when ``persist``)."""
    folder.mkdir(parents=True, exist_ok=True)
    command = [
        shutil.which("redis-server") or "redis-server",
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(folder),
        "--save", "",
        "--appendonly", "yes" if persist else "no",
        # everysec loses at most a second of writes if the machine (not the process) dies.
        "--appendfsync", "everysec",
        "--daemonize", "no",
        "--protected-mode", "yes",
    ]  # fmt: skip
    return Program(name=name, command=command, port=port, cwd=folder)


def rabbitmq_program(folder: Path, port: int, *, name: str = "rabbitmq") -> Program:
    """A private RabbitMQ node with its own HOME, node name, ports and epmd port."""
    folder.mkdir(parents=True, exist_ok=True)
    dist_port = free_port()
    epmd_port = free_port()
    (folder / "enabled_plugins").write_text("[].\n")
    env = {
        # The /usr/sbin wrappers switch to the rabbitmq user; the binaries under
        # /usr/lib/rabbitmq/bin run as we are, with everything pointed at `folder`.
        "HOME": str(folder),
        "RABBITMQ_NODENAME": f"{name}-{port}@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(port),
        "RABBITMQ_DIST_PORT": str(dist_port),
        "ERL_EPMD_PORT": str(epmd_port),
        "ERL_EPMD_ADDRESS": "127.0.0.1",
        "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"),
        "RABBITMQ_LOG_BASE": str(folder / "log"),
        "RABBITMQ_LOGS": "-",  # to stdout, where supervisord or the test collects it
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "enabled_plugins"),
        "RABBITMQ_CONFIG_FILE": str(folder / "rabbitmq"),
        "RABBITMQ_ADVANCED_CONFIG_FILE": str(folder / "advanced.config"),
        "RABBITMQ_PID_FILE": str(folder / "rabbitmq.pid"),
    }
    return Program(
        name=name,
        command=[str(RABBITMQ_BIN / "rabbitmq-server")],
        port=port,
        env=env,
        cwd=folder,
    )


def rabbitmqctl(program: Program, *args: str) -> list[str]:
    """The command line of rabbitmqctl aimed at the node of ``program``."""
    return [str(RABBITMQ_BIN / "rabbitmqctl"), "-n", program.env["RABBITMQ_NODENAME"], *args]
