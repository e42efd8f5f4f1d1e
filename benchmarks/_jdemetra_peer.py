"""Peer run for bench_seasonal.py: JDemetra+ X-13 (pydemetra) over the same series, in its own interpreter.

pydemetra needs a JVM (JPype) and is not a dependency of the project; bench_seasonal.py calls this file
with the interpreter of an environment where it is installed (``--jdemetra-python``).  Reads a wide CSV
(``period`` + one column per series), adjusts each series with ``pydemetra.x13_fast(ts, spec)`` in one
process, and prints one JSON line: seconds, series done, failures, and the JVM start-up time.
"""

from __future__ import annotations

import json
import sys
import time

import pandas as pd


def main(path: str, spec: str) -> None:
    t0 = time.perf_counter()
    import pydemetra

    frame = pd.read_csv(path, index_col="period")
    frame.index = pd.PeriodIndex(frame.index, freq="M")
    first = frame.iloc[:, 0].dropna()
    pydemetra.x13_fast(first, spec)  # starts the JVM; timed separately
    startup = time.perf_counter() - t0
    t1 = time.perf_counter()
    done, failures = 0, []
    for name in frame.columns:
        try:
            out = pydemetra.x13_fast(frame[name].dropna(), spec)
            if out is None:
                raise RuntimeError("x13_fast returned None")
            done += 1
        except Exception as exc:
            failures.append(f"{name}: {type(exc).__name__}: {exc}"[:200])
    print(json.dumps({"seconds": time.perf_counter() - t1, "done": done, "failures": failures,
                      "startup": startup}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
