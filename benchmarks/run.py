"""Benchmark runner: prints one JSON line per figure.

Usage: python benchmarks/run.py [--quick] [--only NAME[,NAME...]]

Each ``benchmarks/bench_*.py`` module defines ``FIGURES`` (the figure names it yields) and
``def run(quick: bool) -> Iterator[dict]`` yielding ``{"name", "value", "unit", ...}``;
extra keys (``target``, ``baseline``, ``runs``) are kept. Use :func:`median_of` for timings.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _modules():
    for path in sorted(HERE.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = mod
        spec.loader.exec_module(mod)
        yield mod


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer runs (< 2 min)")
    ap.add_argument("--only", default="", help="comma-separated figure names to run")
    args = ap.parse_args(argv)
    only = {n.strip() for n in args.only.split(",") if n.strip()}
    sys.path.insert(0, str(HERE))
    failed = 0
    for mod in _modules():
        names = set(getattr(mod, "FIGURES", ()))
        if only and not (names & only):
            continue
        t0 = time.perf_counter()
        try:
            for fig in mod.run(quick=args.quick, only=only or None):
                if only and fig["name"] not in only:
                    continue
                print(json.dumps(fig), flush=True)
        except Exception:  # a failed benchmark must not hide the others
            failed += 1
            traceback.print_exc()
        print(f"# {mod.__name__}: {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
