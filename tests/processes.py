"""Start and stop real processes for the tests: private servers and EcoMarket services."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from ecomarket.servers import Program, free_port, wait_for_port

ADMIN_TOKEN = "test-admin-token"
BRANCH_TOKENS = {
    "branch-1": "test-secret-1",
    "branch-2": "test-secret-2",
    "branch-3": "test-secret-3",
}


@dataclass
class Running:
    """A process started by a test, with where its output goes."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        """Its HTTP address."""
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL, as a crash would: no clean-up runs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM and wait, then SIGKILL if it does not go."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        """What it printed so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def start_program(program: Program, log_dir: Path, timeout: float = 60) -> Running:
    """Start a server ``Program`` and wait until its port answers."""
    log = log_dir / f"{program.name}-{program.port}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            program.command,
            env=program.full_env(),
            cwd=program.cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Running(program.name, process, program.port, log)
    try:
        wait_for_port(program.port, timeout)
    except TimeoutError:
        running.kill()
        raise RuntimeError(f"{program.name} did not start:\n{running.output()[-3000:]}") from None
    return running


def central_env(redis_url: str, amqp_url: str, instance: str, **extra: str) -> dict[str, str]:
    """The environment of a central instance under test."""
    return {
        "ECOMARKET_REDIS_URL": redis_url,
        "ECOMARKET_AMQP_URL": amqp_url,
        "ECOMARKET_INSTANCE": instance,
        "ECOMARKET_ADMIN_TOKEN": ADMIN_TOKEN,
        "ECOMARKET_BRANCH_TOKENS": ",".join(f"{b}:{t}" for b, t in BRANCH_TOKENS.items()),
        **extra,
    }


def start_central(
    log_dir: Path, env: dict[str, str], port: int | None = None, timeout: float = 30
) -> Running:
    """Run ``ecomarket central`` as a real process and wait until it is healthy."""
    port = port or free_port()
    instance = env["ECOMARKET_INSTANCE"]
    log = log_dir / f"{instance}-{port}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ecomarket", "central", "--port", str(port)],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Running(instance, process, port, log)
    wait_healthy(running, timeout)
    return running


def wait_healthy(running: Running, timeout: float = 30, path: str = "/healthz") -> None:
    """Wait until the process answers 200 on ``path``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise RuntimeError(f"{running.name} exited:\n{running.output()[-3000:]}")
        try:
            if httpx.get(running.url + path, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    running.kill()
    raise RuntimeError(f"{running.name} not healthy after {timeout} s:\n{running.output()[-3000:]}")
