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
        if name not in logs:
            raise KeyError(f"no log for {name!r}; known: {', '.join(logs) or 'none'}")
        yield from tail(logs[name], lines)
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
    interval: float = 0.2,
) -> None:
    """Write every new line of the programs' logs, prefixed with the name, until told to stop.

    New programs (``scale``) are picked up as their log files appear.
    """
    offsets: dict[Path, int] = {path: path.stat().st_size for path in program_logs(run).values()}
    partial: dict[Path, bytes] = {}
    while keep_going():
        for name, path in program_logs(run).items():
            if only is not None and name != only:
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
