"""``python -m bench`` runs every benchmark, one after the other."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> None:
    """Run each ``bench_*`` module's ``main`` (or only those named on the command line)."""
    wanted = set(sys.argv[1:])
    folder = Path(__file__).parent
    for module in sorted(m.name for m in pkgutil.iter_modules([str(folder)])):
        if not module.startswith("bench_") or (wanted and module not in wanted):
            continue
        print(f"== {module}", flush=True)
        sys.argv = [module]
        importlib.import_module(f"bench.{module}").main()


if __name__ == "__main__":
    main()
