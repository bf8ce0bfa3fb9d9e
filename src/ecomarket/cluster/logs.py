"""The programs' output: the last lines of one or all, or every new line as it comes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from ecomarket.cluster.layout import RunDir

# Files in the logs folder that are not a program's own output.
NOT_PROGRAMS = {"supervisord", "nginx-access"}


def program_logs(run: RunDir) -> dict[str, Path]:
    """Each program's log file, by program name."""
    return {
        path.stem: path for path in sorted(run.logs.glob("*.log")) if path.stem not in NOT_PROGRAMS
    }


def log_sizes(run: RunDir) -> dict[Path, int]:
    """The size of every program's log now, to follow them from here on."""
    return {path: path.stat().st_size for path in program_logs(run).values()}


def tail(path: Path, lines: int) -> list[str]:
    """The last ``lines`` lines of a file."""
    if not path.exists():
        return []
    with path.open("rb") as source:
        source.seek(0, 2)
        size = source.tell()
        # Read back just far enough: a log can be many megabytes.
        source.seek(max(0, size - 400 * (lines + 1)))
        text = source.read().decode(errors="replace")
    return text.splitlines()[-lines:]


def last_lines(run: RunDir, name: str | None, lines: int) -> Iterator[str]:
    """The last lines of one program's log, or of each, prefixed with its name."""
    logs = program_logs(run)
    if name is not None:
        # Any log of the folder by its name: a program's, or nginx-access, or supervisord.
        if not run.log_of(name).exists():
            known = ", ".join([*logs, *sorted(NOT_PROGRAMS)])
            raise KeyError(f"no log for {name!r}; known: {known}")
        yield from tail(run.log_of(name), lines)
        return
    width = max((len(n) for n in logs), default=0)
    for program, path in logs.items():
        for line in tail(path, lines):
            yield f"{program:<{width}} | {line}"


def follow(
    run: RunDir,
    write: Callable[[str], None],
    keep_going: Callable[[], bool],
    only: str | None = None,
    since: dict[Path, int] | None = None,
    interval: float = 0.2,
) -> None:
    """Write every new line of the programs' logs, prefixed with the name, until told to stop.

    Lines are new from the sizes in ``since`` (default: the sizes now); new programs
    (``scale``) are picked up as their log files appear.
    """

    def watched() -> dict[str, Path]:
        return {only: run.log_of(only)} if only is not None else program_logs(run)

    offsets = dict(since) if since is not None else log_sizes(run)
    partial: dict[Path, bytes] = {}
    while keep_going():
        for name, path in watched().items():
            if not path.exists():
                continue
            offset = offsets.setdefault(path, 0)
            size = path.stat().st_size
            if size < offset:  # rotated by supervisord: start over
                offset = 0
            if size == offset:
                continue
            with path.open("rb") as source:
                source.seek(offset)
                chunk = partial.pop(path, b"") + source.read(size - offset)
            offsets[path] = size
            *complete, rest = chunk.split(b"\n")
            if rest:
                partial[path] = rest
            for line in complete:
                write(f"{name} | {line.decode(errors='replace')}")
        time.sleep(interval)
