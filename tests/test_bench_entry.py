"""``python -m bench`` can run every benchmark: each module's ``main`` takes no argument."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import bench


def test_every_benchmark_runs_from_python_m_bench() -> None:
    folder = Path(bench.__file__).parent
    modules = [m.name for m in pkgutil.iter_modules([str(folder)]) if m.name.startswith("bench_")]
    assert modules
    for name in modules:
        main = importlib.import_module(f"bench.{name}").main
        assert not inspect.iscoroutinefunction(main), name
        assert not inspect.signature(main).parameters, name
