"""The ``imon`` command line's group, shared helpers and entry point.

Exit status: 0 success; 1 the work ran but found problems; 2 usage or
configuration error (one line on stderr naming the problem and the fix).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from typing import Any

import click

from ..exceptions import MonitorError
from ..logfile import attach_log_file
from ..settings import Settings, load_settings

log = logging.getLogger("monitor")


class _Context:
    """Lazily resolved settings shared by the subcommands."""

    def __init__(self, config: str | None) -> None:
        self.config = config
        self.verbose = 0
        self._settings: Settings | None = None

    def settings(self, **overrides: Any) -> Settings:
        if self._settings is None:
            from ..alerts import validate_settings

            settings = load_settings(self.config)
            validate_settings(settings)  # the file's alert rules and recipients, refused at start when malformed
            self._settings = settings
        if overrides:
            return self._settings.with_overrides(**{k.replace(".", "__"): v for k, v in overrides.items()
                                                   if v is not None})
        return self._settings


def _progress_printer() -> Any:
    """A one-line progress display on stderr when it is a terminal (rewritten in place); nothing when piped."""
    if not sys.stderr.isatty():
        return None

    def show(message: str) -> None:
        sys.stderr.write("\r\x1b[K  … " + message[:150])
        sys.stderr.flush()

    return show


def _end_progress() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()


class _SafeFormatter(logging.Formatter):
    """Log lines whose message has its control characters escaped: a file name holding a newline cannot forge a
    line of ``imon.log`` (the traceback, appended after the message, keeps its own lines)."""

    def format(self, record: logging.LogRecord) -> str:
        from ..textout import escape_control

        record = logging.makeLogRecord({**record.__dict__, "msg": escape_control(record.getMessage()), "args": None})
        return super().format(record)


class _ShortFormatter(_SafeFormatter):
    """Terminal log lines without tracebacks (those go to the log file): one line per event."""

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info:
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
            record.msg = f"{record.getMessage()} (traceback in the log file)"
            record.args = None
        return super().format(record)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of the record (not the one at set-up)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:  # StreamHandler.__init__ assigns it; ignored
        pass


_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _setup_logging(settings: Settings | None, verbose: int, *, create: bool = True) -> None:
    """Log to stderr (warnings, or more with ``-v``) and to ``<data_dir>/imon.log``.

    Every command gets the stderr handler (so an unexpected error never reaches Python's last-resort handler,
    which prints tracebacks); the log file is added once ``settings`` are known, creating the data folder only
    when ``create`` (commands that write), else only when the folder already exists.
    """
    root = logging.getLogger("monitor")
    if not getattr(root, "_imon_stderr", False):
        root.setLevel(logging.DEBUG)
        stderr = _StderrHandler()
        stderr.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
        stderr.setFormatter(_SafeFormatter(_LOG_FORMAT) if verbose > 1 else _ShortFormatter(_LOG_FORMAT))
        stderr.addFilter(lambda record: not getattr(record, "file_only", False))
        root.addHandler(stderr)
        root._imon_stderr = True  # type: ignore[attr-defined]
    if settings is None:
        return
    if not create and not settings.data_dir.is_dir():
        return
    try:
        attach_log_file(root, settings.data_dir, settings["log_level"], _SafeFormatter(_LOG_FORMAT))
    except OSError as exc:
        log.warning("cannot write the log file in %s (%s); logging to stderr only", settings.data_dir, exc)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config", type=click.Path(dir_okay=False), default=None,
              help="TOML settings file (default: $IMON_CONFIG, else ./imon.toml if present).")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.version_option(package_name="industry-monitor", prog_name="imon")
@click.pass_context
def cli(ctx: click.Context, config: str | None, verbose: int) -> None:
    """industry-monitor: survey PMI, indicators, seasonal adjustment, forecasts, reports and warnings."""
    ctx.obj = _Context(config)
    ctx.obj.verbose = verbose
    settings = None
    try:
        settings = ctx.obj.settings()
    except MonitorError:
        pass  # the command that needs the settings reports the problem
    _setup_logging(settings, verbose, create=False)



def _month_option(value: str, what: str) -> Any:
    from ..periods import parse_month

    return parse_month(value, what=what)


def _when(settings: Any, value: Any, fmt: str = "%Y-%m-%d %H:%M", naive: str = "local") -> str:
    """A stored time as users see it: in the bureau's zone, labelled (``2026-12-07 16:50 北京时间``)."""
    from ..timeshow import bureau_zone, show_time

    return show_time(value, bureau_zone(settings), settings["language"], fmt, naive=naive)


def _format_times(frame: Any, columns: list[str], settings: Any, naive: str = "local") -> Any:
    """Timestamps as ``YYYY-MM-DD HH:MM:SS 北京时间`` in the bureau's zone (SQLite hands them back as text with
    ``.000000``); empty stays empty."""
    import pandas as pd

    for col in columns:
        if col not in frame:
            continue
        frame[col] = [_when(settings, pd.to_datetime(v, errors="coerce"), "%Y-%m-%d %H:%M:%S", naive) or None
                      if v is not None and v == v else None for v in frame[col]]
    return frame


def _print_frame(frame: Any, columns: list[str]) -> None:
    from ..textout import frame_lines

    for line in frame_lines(frame, columns):
        click.echo(line)


def _this_month() -> str:
    today = dt.date.today()
    return f"{today.year:04d}-{today.month:02d}"


def _busy_error(exc: BaseException) -> MonitorError | None:
    """A "database is locked" (SQLite) or lock-timeout (PostgreSQL) error said as "busy, retry" (exit 75)."""
    from sqlalchemy.exc import OperationalError

    from ..exceptions import StoreBusyError
    from ..store import is_busy

    if isinstance(exc, OperationalError) and is_busy(exc):
        return StoreBusyError("the store is busy: another imon process (a long collect, the scheduler) is writing "
                              "to it and did not finish within the wait; nothing was changed: run the command "
                              "again when it is done")
    return None  # not a busy store


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``imon``: library errors and usage errors become one line and an exit status."""
    try:
        cli.main(args=argv, prog_name="imon", standalone_mode=False)
    except click.exceptions.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        click.echo(f"imon: error: {exc.format_message()}{hint}", err=True)
        raise SystemExit(2) from None
    except click.exceptions.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt) or isinstance(exc.__cause__, KeyboardInterrupt):
            click.echo("imon: interrupted", err=True)
            raise SystemExit(130) from None
        click.echo("imon: aborted", err=True)
        raise SystemExit(1) from None
    except click.exceptions.ClickException as exc:
        click.echo(f"imon: error: {exc.format_message()}", err=True)
        raise SystemExit(exc.exit_code) from None
    except MonitorError as exc:
        click.echo(f"imon: error: {exc}", err=True)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        click.echo("imon: interrupted", err=True)
        raise SystemExit(130) from None
    except Exception as exc:  # a bug, not bad input: one line for the operator, the traceback in the log
        busy = _busy_error(exc)
        if busy is not None:
            click.echo(f"imon: error: {busy}", err=True)
            raise SystemExit(busy.exit_code) from None
        if os.environ.get("IMON_DEBUG"):
            raise
        _setup_logging(None, 0)  # never Python's last-resort handler (it prints the traceback on the terminal)
        logging.getLogger("monitor").error("unexpected error", exc_info=True, extra={"file_only": True})
        click.echo(f"imon: internal error: {type(exc).__name__}: {str(exc)[:300]} -- this is a bug; the traceback "
                   "is in the log file (<data_dir>/imon.log); rerun with IMON_DEBUG=1 to see it here", err=True)
        raise SystemExit(70) from None

