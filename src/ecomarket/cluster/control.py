"""Controlling a running cluster: ps, stop, start, kill, scale, down."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from ecomarket.cluster import nginx, programs
from ecomarket.cluster.health import is_healthy, wait_healthy
from ecomarket.cluster.launcher import ClusterError
from ecomarket.cluster.layout import ClusterState, ProgramInfo, RunDir, ensure_tokens
from ecomarket.cluster.supervisor import Supervisor, alive

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessRow:
    """One line of ``ecomarket ps``."""

    name: str
    pid: int
    port: int | None
    state: str
    healthy: bool


def connect(run_dir: Path) -> tuple[RunDir, ClusterState, Supervisor]:
    """The run folder, its state and its supervisord; ClusterError when nothing runs there."""
    run = RunDir(run_dir)
    supervisor = Supervisor(run)
    if not run.exists() or not supervisor.running():
        raise ClusterError(f"no cluster runs in {run.root}; start one with `ecomarket up`")
    return run, run.load(), supervisor


def ps(run_dir: Path) -> list[ProcessRow]:
    """Each process of the cluster: name, pid, port, state and health."""
    _, state, supervisor = connect(run_dir)
    rows = []
    for info in supervisor.processes():
        planned = state.programs.get(info["name"])
        running = info["statename"] == "RUNNING"
        rows.append(
            ProcessRow(
                name=info["name"],
                pid=info["pid"],
                port=planned.port if planned else None,
                state=info["statename"],
                healthy=bool(planned and running and is_healthy(planned)),
            )
        )
    order = {name: n for n, name in enumerate(_in_start_order(state))}
    return sorted(rows, key=lambda row: (order.get(row.name, len(order)), row.name))


def _in_start_order(state: ClusterState) -> list[str]:
    kinds = ("redis", "epmd", "rabbitmq", "central", "nginx", "branch")
    return [name for kind in kinds for name in state.names_of(kind)]


def _known(state: ClusterState, name: str) -> None:
    if name not in state.programs:
        raise ClusterError(f"no process {name!r}; known: {', '.join(state.programs)}")


def stop(run_dir: Path, name: str) -> None:
    """Stop one process gracefully; supervisord does not restart it until ``start``."""
    _, state, supervisor = connect(run_dir)
    _known(state, name)
    supervisor.stop(name)
    logger.info("%s stopped", name)


def start(run_dir: Path, name: str) -> None:
    """Start one process and wait until it answers."""
    _, state, supervisor = connect(run_dir)
    _known(state, name)
    supervisor.start(name)
    wait_healthy(name, state.programs[name], 60)
    logger.info("%s started", name)


def kill(run_dir: Path, name: str) -> None:
    """SIGKILL one process, as a crash would; supervisord then restarts it."""
    _, state, supervisor = connect(run_dir)
    _known(state, name)
    supervisor.signal(name, "KILL")
    logger.info("%s killed with SIGKILL", name)


def scale(run_dir: Path, count: int) -> list[str]:
    """Run ``count`` central instances; nginx is reloaded without dropping a request."""
    if count < 1:
        raise ClusterError("scale needs at least one central instance")
    run, state, supervisor = connect(run_dir)
    current = state.names_of("central")
    tokens = ensure_tokens(run, state.names_of("branch") or ["branch-1"])
    programs.reserve([state.port, *(info.port for info in state.programs.values())])

    # Adding: the new instance must serve before nginx sends it anything.
    for n in range(len(current) + 1, count + 1):
        name, port = f"central-{n}", programs.pick_port()
        supervisor.add(programs.central(name, port, state, tokens))
        state.programs[name] = ProgramInfo("central", port)
        supervisor.start(name)
        wait_healthy(name, state.programs[name], 60)
        logger.info("instance %s started on port %s", name, port)

    # Removing: nginx forgets the instance first, and only once no worker of the
    # old configuration is left is the instance asked to stop (it then finishes
    # what it has in flight).
    leaving = state.names_of("central")[count:]
    staying = state.names_of("central")[:count]
    _reload_nginx(run, state, supervisor, [state.programs[n].port for n in staying])
    for name in leaving:
        supervisor.remove(name)
        del state.programs[name]
        logger.info("instance %s removed", name)
    run.save(state)
    return state.names_of("central")


def _reload_nginx(
    run: RunDir, state: ClusterState, supervisor: Supervisor, ports: list[int]
) -> None:
    nginx.write_config(
        run.nginx, state.port, ports, state.balance, run.logs / "nginx-access.log",
        generator="scale",
    )  # fmt: skip
    try:
        master = int((run.nginx / "nginx.pid").read_text())
    except (OSError, ValueError):
        # nginx is stopped: it reads the new config when it starts.
        logger.warning("nginx is not running; its new config takes effect on `start nginx`")
        return
    old_workers = _children(master)
    supervisor.signal("nginx", "HUP")
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in old_workers):
        if time.monotonic() > deadline:
            logger.warning("old nginx workers still finish requests after 30 s")
            break
        time.sleep(0.1)
    logger.info("nginx reloaded with %s instances", len(ports))


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (field 2) may hold spaces; the parent pid follows it.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent:
            found.append(int(entry.name))
    return found


def down(run_dir: Path) -> bool:
    """Stop every process and supervisord; data and logs stay. False when nothing ran."""
    run = RunDir(run_dir)
    supervisor = Supervisor(run)
    if not supervisor.running():
        return False
    supervisor.shutdown()
    logger.info("cluster in %s is down", run.root)
    return True
