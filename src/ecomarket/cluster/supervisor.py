"""supervisord as the cluster's process manager: its config files and its control socket.

Each program has its own file under ``programs/``, so that ``scale`` can add
and remove programs while supervisord runs (reloadConfig, addProcessGroup).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shlex
import subprocess
import sys
import time
import xmlrpc.client
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from supervisor.xmlrpc import SupervisorTransport

from ecomarket.cluster.layout import RunDir

logger = logging.getLogger(__name__)

MAIN_CONF = """\
[unix_http_server]
file={socket}
chmod=0700

[supervisord]
logfile={logs}/supervisord.log
pidfile={pid}
childlogdir={logs}
directory={root}
identifier=ecomarket-{identifier}
nodaemon=false
silent=true
minfds=4096

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{socket}

[include]
files = {programs}/*.conf
"""


@dataclass(frozen=True)
class ProgramSpec:
    """One program for supervisord: command, environment and how to stop it."""

    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    priority: int = 500
    stop_signal: str = "TERM"
    stop_wait: int = 20


def _escape(value: str) -> str:
    # supervisord expands %(name)s in its files, so a literal percent sign is doubled.
    return value.replace("%", "%%")


def program_conf(run: RunDir, spec: ProgramSpec) -> str:
    """The ``[program:x]`` section of one program."""
    env = ",".join(f'{key}="{_escape(value)}"' for key, value in spec.env.items())
    lines = [
        f"[program:{spec.name}]",
        f"command={_escape(shlex.join(spec.command))}",
        f"directory={spec.cwd or run.root}",
        f"priority={spec.priority}",
        # The launcher starts programs itself, in order, once what they need is ready.
        "autostart=false",
        "autorestart=true",
        "startsecs=1",
        "startretries=100",
        f"stopsignal={spec.stop_signal}",
        f"stopwaitsecs={spec.stop_wait}",
        # Stop the whole process group: rabbitmq-server and nginx have children.
        "stopasgroup=true",
        "killasgroup=true",
        "redirect_stderr=true",
        f"stdout_logfile={run.log_of(spec.name)}",
        "stdout_logfile_maxbytes=20MB",
        "stdout_logfile_backups=1",
    ]
    if env:
        lines.append(f"environment={env}")
    return "\n".join(lines) + "\n"


def write_program(run: RunDir, spec: ProgramSpec) -> None:
    """Write (or replace) the config file of one program."""
    (run.programs / f"{spec.name}.conf").write_text(program_conf(run, spec))


def write_main_conf(run: RunDir) -> None:
    """Write supervisord's own config."""
    text = MAIN_CONF.format(
        socket=run.socket,
        logs=run.logs,
        pid=run.supervisor_pid,
        root=run.root,
        programs=run.programs,
        identifier=hashlib.blake2b(str(run.root).encode(), digest_size=4).hexdigest(),
    )
    run.supervisor_conf.write_text(text)


class Supervisor:
    """The XML-RPC interface of the supervisord of one run folder."""

    def __init__(self, run: RunDir) -> None:
        self.run = run
        transport = SupervisorTransport(None, None, serverurl=f"unix://{run.socket}")
        # The host part is ignored: the transport always talks to the unix socket.
        self.proxy: Any = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    def running(self) -> bool:
        """Whether supervisord answers on the socket."""
        if not self.run.socket.exists():
            return False
        try:
            return cast(str, self.proxy.supervisor.getState()["statename"]) == "RUNNING"
        except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
            return False

    def launch(self, timeout: float = 15.0) -> None:
        """Start supervisord (it daemonizes) and wait for its socket."""
        supervisord = Path(sys.executable).with_name("supervisord")
        command = [str(supervisord)] if supervisord.exists() else ["supervisord"]
        subprocess.run([*command, "-c", str(self.run.supervisor_conf)], check=True, env=os.environ)
        deadline = time.monotonic() + timeout
        while not self.running():
            if time.monotonic() > deadline:
                raise TimeoutError(f"supervisord did not start; see {self.run.logs}")
            time.sleep(0.1)
        logger.info("supervisord started for %s", self.run.root)

    def processes(self) -> list[dict[str, Any]]:
        """Every program supervisord knows, with its pid and state."""
        return cast(list[dict[str, Any]], self.proxy.supervisor.getAllProcessInfo())

    def start(self, name: str) -> None:
        """Start a program and wait until supervisord counts it as running."""
        info = self.proxy.supervisor.getProcessInfo(name)
        if info["statename"] not in ("RUNNING", "STARTING"):
            self.proxy.supervisor.startProcess(name, True)

    def stop(self, name: str) -> None:
        """Stop a program gracefully (its stop signal, then SIGKILL after its wait)."""
        info = self.proxy.supervisor.getProcessInfo(name)
        if info["statename"] in ("RUNNING", "STARTING", "BACKOFF"):
            self.proxy.supervisor.stopProcess(name, True)

    def signal(self, name: str, signal: str) -> None:
        """Send a signal (HUP, KILL, ...) to a program."""
        self.proxy.supervisor.signalProcess(name, signal)

    def add(self, spec: ProgramSpec) -> None:
        """Add a program while supervisord runs (its config file is written first)."""
        write_program(self.run, spec)
        self.proxy.supervisor.reloadConfig()
        names = {info["name"] for info in self.processes()}
        if spec.name not in names:
            self.proxy.supervisor.addProcessGroup(spec.name)

    def remove(self, name: str) -> None:
        """Stop a program and forget it."""
        self.stop(name)
        self.proxy.supervisor.removeProcessGroup(name)
        (self.run.programs / f"{name}.conf").unlink(missing_ok=True)

    def shutdown(self, timeout: float = 60.0) -> None:
        """Stop every program, then supervisord; wait until its pid is gone."""
        pid = _read_pid(self.run.supervisor_pid)
        try:
            self.proxy.supervisor.shutdown()
        except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError):
            logger.warning("supervisord of %s did not answer the shutdown", self.run.root)
        deadline = time.monotonic() + timeout
        while pid is not None and alive(pid):
            if time.monotonic() > deadline:
                raise TimeoutError(f"supervisord (pid {pid}) still runs after {timeout:.0f} s")
            time.sleep(0.2)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def alive(pid: int) -> bool:
    """Whether a process with this pid exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
