"""Fixtures of the cluster tests: clusters started with the real ``ecomarket up``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ecomarket.cluster.layout import ClusterState, RunDir
from ecomarket.cluster.programs import pick_port
from ecomarket.servers import Program, free_port
from tests.processes import Running, start_program

ECOMARKET = [sys.executable, "-m", "ecomarket"]


def ecomarket(*args: str, cwd: Path | None = None, timeout: float = 180) -> str:
    """Run an ``ecomarket`` command; its output, or a failure showing it."""
    done = subprocess.run(
        [*ECOMARKET, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"ecomarket {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@dataclass
class Cluster:
    """A cluster started by a test, and how to reach it."""

    run_dir: Path

    @property
    def state(self) -> ClusterState:
        """What ``up`` (and ``scale``) wrote in the run folder."""
        return RunDir(self.run_dir).load()

    @property
    def url(self) -> str:
        """The load balancer."""
        return self.state.url

    def run(self, *args: str, timeout: float = 180) -> str:
        """An ``ecomarket`` command aimed at this cluster's run folder."""
        return ecomarket(*args, "--run-dir", str(self.run_dir), timeout=timeout)

    def loadtest(self, *args: str) -> subprocess.Popen[str]:
        """Start ``ecomarket loadtest --json`` against the cluster, in the background."""
        command = [
            *ECOMARKET, "loadtest", "--url", self.url, "--run-dir", str(self.run_dir),
            "--json", *args,
        ]  # fmt: skip
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def report_of(process: subprocess.Popen[str], timeout: float = 180) -> dict[str, Any]:
    """The JSON report of a background load test, once it ends."""
    stdout, stderr = process.communicate(timeout=timeout)
    assert stdout.strip(), f"load test printed no report:\n{stderr}"
    report: dict[str, Any] = json.loads(stdout)
    return report


@pytest.fixture(scope="module")
def shared_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two centrals behind nginx, with the cluster's own Redis and RabbitMQ.

    Its own servers, not the session's: events other tests left in a shared broker
    would move stock while the load test checks it.
    """
    run_dir = tmp_path_factory.mktemp("cluster")
    ecomarket(
        "up", "--detach", "--centrals", "2", "--branches", "0", "--port", str(pick_port()),
        "--run-dir", str(run_dir),
    )  # fmt: skip
    cluster = Cluster(run_dir)
    yield cluster
    ecomarket("down", "--run-dir", str(run_dir))


def start_trivial(log_dir: Path, name: str, delay_ms: float = 0) -> Running:
    """A trivial FastAPI instance (optionally slowed down) as a real process."""
    port = free_port()
    command = [
        sys.executable, "-m", "ecomarket.cluster.trivial",
        "--port", str(port), "--name", name, "--delay-ms", str(delay_ms),
    ]  # fmt: skip
    return start_program(Program(name, command, port, env={}), log_dir)


def start_nginx(folder: Path, log_dir: Path, ports: list[int], balance: str) -> Running:
    """The cluster's generated nginx in front of ``ports``, as a plain process."""
    from ecomarket.cluster import nginx

    port = free_port()
    nginx.write_config(folder, port, ports, balance, folder / "access.log")
    program = Program("nginx", nginx.command(folder), port, env=dict(os.environ))
    return start_program(program, log_dir)
