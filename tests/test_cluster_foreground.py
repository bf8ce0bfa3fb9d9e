"""``ecomarket up`` in the foreground: every log line prefixed by its process, Ctrl-C stops all."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ecomarket.cluster.layout import RunDir
from ecomarket.cluster.programs import pick_port
from ecomarket.cluster.supervisor import Supervisor
from tests.processes import Running

pytestmark = pytest.mark.slow


def wait_for_text(path: Path, text: str, timeout: float) -> str:
    """The file's content once it holds ``text``; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = path.read_text(errors="replace")
        if text in content:
            return content
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared:\n{path.read_text(errors='replace')[-3000:]}")


def test_foreground_shows_prefixed_logs_and_ctrl_c_stops_everything(
    tmp_path: Path, redis_server: Running, amqp_url: str
) -> None:
    run_dir = tmp_path / "run"
    port = pick_port()
    output = tmp_path / "up.out"
    command = [
        sys.executable, "-m", "ecomarket", "up", "--centrals", "1", "--branches", "0",
        "--port", str(port), "--run-dir", str(run_dir),
        "--redis-url", f"redis://127.0.0.1:{redis_server.port}/4", "--amqp-url", amqp_url,
    ]  # fmt: skip
    with output.open("w") as out:
        up = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_text(output, "Ctrl-C stops the cluster", 120)
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        shown = wait_for_text(output, "central-1 | ", 30)

        up.send_signal(signal.SIGINT)
        assert up.wait(60) == 0
    finally:
        if up.poll() is None:
            up.kill()
            subprocess.run([*command[:3], "down", "--run-dir", str(run_dir)], timeout=120)

    assert f"http://127.0.0.1:{port}/dashboard" in shown
    assert not Supervisor(RunDir(run_dir)).running()
    assert "stopped" in output.read_text()
