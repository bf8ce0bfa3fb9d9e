"""Start the servers a benchmark needs, privately, and measure their memory."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from ecomarket.servers import Program, free_port, redis_program, wait_for_port


@contextlib.contextmanager
def started(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[int]:
    """Run ``command`` until the block ends; yields its pid once ``port`` answers."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_for_port(port, 60)
        # Listening is not ready: wait for the app's health route too.
        for _ in range(100):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        yield process.pid
    finally:
        process.terminate()
        process.wait(20)


@contextlib.contextmanager
def private_redis() -> Iterator[str]:
    """A throw-away redis-server; yields its URL."""
    with tempfile.TemporaryDirectory(prefix="eco-bench-") as folder:
        program: Program = redis_program(Path(folder), free_port(), persist=False)
        process = subprocess.Popen(
            program.command, cwd=program.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        try:
            wait_for_port(program.port)
            yield f"redis://127.0.0.1:{program.port}/0"
        finally:
            process.terminate()
            process.wait(10)


def python_command(*args: str) -> list[str]:
    """A command line running this interpreter."""
    return [sys.executable, *args]


def peak_rss_mb(pid: int) -> float:
    """The peak resident memory of a process so far, in MB (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0
