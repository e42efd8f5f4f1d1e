"""The ``imon`` command line: a thin shell over the library.

Exit status: 0 success; 1 the work ran but found problems; 2 usage or
configuration error (one line on stderr naming the problem and the fix).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from .exceptions import MonitorError
from .logfile import attach_log_file
from .settings import Settings, load_settings, settings_markdown

__all__ = ["cli", "main"]

log = logging.getLogger("monitor")


class _Context:
    """Lazily resolved settings shared by the subcommands."""

    def __init__(self, config: str | None) -> None:
        self.config = config
        self.verbose = 0
        self._settings: Settings | None = None

    def settings(self, **overrides: Any) -> Settings:
        if self._settings is None:
            from .alerts import validate_settings

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
        from .textout import escape_control

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


# ---------------------------------------------------------------------------------------------- config
@cli.group()
def config() -> None:
    """Inspect the settings."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of TOML-like lines.")
@click.pass_obj
def config_show(obj: _Context, as_json: bool) -> None:
    """Print the effective settings, where each came from, secrets masked."""
    settings = obj.settings()
    if as_json:  # plain JSON values, not TOML text inside JSON strings (issue 13)
        click.echo(json.dumps({k: {"value": v, "source": s} for k, v, s in settings.display(as_toml=False)},
                              ensure_ascii=False, indent=2, default=str))
        return
    rows = settings.display()
    if settings.config_path:
        click.echo(f"# config file: {settings.config_path}")
    width = max(len(k) + len(v) for k, v, _ in rows) + 3
    for key, value, source in rows:
        click.echo(f"{key} = {value}".ljust(width) + f"  # {source}")


@config.command("doc")
def config_doc() -> None:
    """Print the Markdown reference of every setting (as in the README)."""
    click.echo(settings_markdown())


# ---------------------------------------------------------------------------------------------- db
@cli.group()
def db() -> None:
    """Store schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.pass_obj
def db_upgrade(obj: _Context, revision: str) -> None:
    """Apply schema migrations to the store (a new store is migrated automatically)."""
    from .store.migrate import upgrade_store

    settings = obj.settings()
    before, after = upgrade_store(settings.store_url, revision, echo=settings["store.echo"])
    click.echo(f"store schema: {before or '(empty)'} -> {after}" if before != after else f"store schema at {after}")


@db.command("status")
@click.pass_obj
def db_status(obj: _Context) -> None:
    """Show the store's location, schema revision and row counts."""
    from .store import open_store

    settings = obj.settings()
    with open_store(settings) as store:
        from .store.migrate import current_revision

        click.echo(f"store: {store.url}")
        click.echo(f"schema revision: {current_revision(store.engine)}")
        for name, rows in store.table_counts().items():
            click.echo(f"  {name:<26}{rows:>12,}")


# ---------------------------------------------------------------------------------------------- survey
@cli.group()
def survey() -> None:
    """The monthly survey: questionnaires out, response tracking."""


def _month_option(value: str, what: str) -> Any:
    from .periods import parse_month

    return parse_month(value, what=what)


@survey.command("template")
@click.option("--period", required=True, metavar="YYYY-MM", help="Survey month.")
@click.option("--enterprise", metavar="CODE", default=None, help="One enterprise's credit code.")
@click.option("--all", "all_", is_flag=True, help="Every enterprise in the sample for the month.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Folder for the workbooks.")
@click.pass_obj
def survey_template(obj: _Context, period: str, enterprise: str | None, all_: bool, out: str) -> None:
    """Write the bilingual questionnaire workbook(s), prefilled with the enterprise."""
    from .store import open_store
    from .survey_admin import write_templates

    if bool(enterprise) == all_:
        raise click.UsageError("give either --enterprise CODE or --all")
    month = _month_option(period, "--period")
    show = _progress_printer()  # on a terminal: "… 412/1200 9144…" rewritten in place; nothing when piped
    try:
        with open_store(obj.settings()) as store:
            paths = write_templates(store, month, Path(out), enterprise=enterprise,
                                    progress=(lambda m: show(f"questionnaires {m}")) if show else None)
    finally:
        if show:
            _end_progress()
    click.echo(f"{len(paths)} questionnaire(s) for {month} written to {Path(out).resolve()}")


@survey.command("status")
@click.option("--period", required=True, metavar="YYYY-MM", help="Survey month.")
@click.option("--missing/--no-missing", default=True, show_default=True, help="List the enterprises not yet answered.")
@click.pass_obj
def survey_status_cmd(obj: _Context, period: str, missing: bool) -> None:
    """Response rates by district, division and size, and who is still missing."""
    from .store import open_store
    from .survey_admin import survey_status
    from .textout import table_lines

    settings = obj.settings()
    lang = settings["language"]
    month = _month_option(period, "--period")
    with open_store(settings) as store:
        st = survey_status(store, month, lang=lang)
    zh = lang == "zh"
    click.echo((f"{st.period} 问卷回收：{st.responded}/{st.sample}" if zh else
                f"{st.period} returns: {st.responded}/{st.sample}") +
               (f" ({st.responded / st.sample:.1%})" if st.sample else ""))
    for line in _respondent_lines(st, zh):
        click.echo(line)
    heads = ["样本", "已回收", "回收率"] if zh else ["sample", "returned", "rate"]
    for title, frame in ((("辖区", "District"), st.by_district), (("规模", "Size"), st.by_size),
                         (("行业大类", "Division"), st.by_industry)):
        shown = frame.assign(rate=frame["rate"].map("{:.1%}".format))
        click.echo("")
        for line in table_lines(shown, [title[0] if zh else title[1], *heads]):
            click.echo(line)
    if missing and len(st.missing):
        click.echo("")
        click.echo(f"未回收（{len(st.missing)}）" if zh else f"Not yet returned ({len(st.missing)})")
        for line in table_lines(st.missing, ["统一社会信用代码", "企业名称", "辖区", "行业", "规模"] if zh else
                                ["credit code", "name", "district", "division", "size"]):
            click.echo(line)


def _respondent_lines(st: Any, zh: bool) -> list[str]:
    """How the returns counted here relate to the respondents the PMI release prints (the same definition as
    the compute stage, :func:`monitor.survey_admin.headline_respondents`), and why they differ."""
    lines = [(f"计入PMI的有效问卷：{st.in_headline}份（五个分项各自的应答企业数中最少者，即PMI发布稿的“有效回收问卷”）"
              if zh else f"valid returns in the PMI: {st.in_headline} (the smallest number of respondents to any of "
              "the five component questions: the release's count)")]
    if st.responded != st.in_headline:
        lines.append(f"  与已回收{st.responded}份相差{st.responded - st.in_headline}份：{st.incomplete}份问卷缺少PMI分项"
                     "的回答（未答的分项不计入该分项，也不计入PMI）" if zh else
                     f"  {st.responded - st.in_headline} fewer than the {st.responded} returns: {st.incomplete} "
                     "return(s) leave a PMI component question unanswered (not counted for it, nor in the PMI)")
    if st.stored_headline is not None and st.stored_headline != st.in_headline:
        lines.append(f"  已计算的PMI基于{st.stored_headline}份（计算之后问卷有变化：运行 imon compute "
                     f"--period {st.period} 后发布稿与此一致）" if zh else
                     f"  the stored PMI rests on {st.stored_headline} (returns changed after it was computed: run "
                     f"imon compute --period {st.period} and the release will agree)")
    return lines


# ---------------------------------------------------------------------------------------------- collect
class _DefaultGroup(click.Group):
    """A group whose arguments, when not a subcommand, go to a default command (``imon collect PATH...``)."""

    default_command = "files"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        default = self.commands[self.default_command]
        formatter.write_usage(ctx.command_path, " ".join(default.collect_usage_pieces(ctx)))
        formatter.write_usage(ctx.command_path, "COMMAND [ARGS]...", prefix="   or: ")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        default = self.commands[self.default_command]
        records = [r for p in default.get_params(ctx) if (r := p.get_help_record(ctx)) is not None]
        records.insert(0, ("PATH...", "Files and folders to ingest (folders are searched recursively)."))
        with formatter.section("Arguments and options"):
            formatter.write_dl(records)
        self.format_commands(ctx, formatter)


@cli.group(cls=_DefaultGroup)
def collect() -> None:
    """Files in: survey workbooks and exports, the utility feed, account maps, official tables.

    `imon collect PATH...` ingests files and folders; `imon collect report` shows what came in.
    """


@collect.command("files", hidden=True)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="PATH...")
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
@click.option("--force", is_flag=True, help="Process files even if the same bytes were ingested before.")
@click.pass_obj
def collect_files(obj: _Context, paths: tuple[Path, ...], dry_run: bool, force: bool) -> None:
    """Ingest files and folders (validated, idempotent, one transaction per file)."""
    from collectors.exceptions import CollectorError

    from .exceptions import InputPathError
    from .ingest import check_paths
    from .pipeline import run_stage
    from .store import open_store
    from .textout import escape_control

    settings = obj.settings()
    _setup_logging(settings, obj.verbose)
    try:
        check_paths(paths)  # before the store is opened: a mistyped path is a usage error, nothing is written
    except CollectorError as exc:
        raise InputPathError(str(exc)) from None
    with open_store(settings) as store:
        outcomes = run_stage(store, settings, "collect", None, paths=list(paths), dry_run=dry_run, force=force,
                             progress=_progress_printer(), raise_errors=True).detail
    _end_progress()
    problems = 0
    for o in outcomes:
        head = f"{escape_control(o.path.name)}: {o.status}"
        if o.kind:
            head += f" [{o.kind}]"
        if o.status in ("loaded", "unchanged", "checked"):
            head += f", {o.rows_read:,} rows read, {o.rows_new:,} new or changed"
            if o.rows_rejected:
                head += f", {o.rows_rejected:,} rejected"
            if o.warnings:
                head += f", {o.warnings:,} warnings"
        if o.message:
            head += f" - {escape_control(o.message)}"
        click.echo(head)
        for issue in o.issues[:5]:
            click.echo(f"    {issue.severity}: {escape_control(issue)}")
        if len(o.issues) > 5:
            click.echo(f"    ... {len(o.issues) - 5:,} more (imon collect report)")
        problems += (o.status == "failed") + (o.rows_rejected > 0)
    total_new = sum(o.rows_new for o in outcomes)
    click.echo(f"{len(outcomes)} file(s), {total_new:,} new or changed rows" + (" (dry run: nothing written)"
                                                                             if dry_run else ""))
    if problems:
        raise SystemExit(1)


@collect.command("report")
@click.option("--last", default=20, show_default=True, type=click.IntRange(min=1), help="How many recent files to list.")
@click.pass_obj
def collect_report_cmd(obj: _Context, last: int) -> None:
    """What came in recently, and what was rejected or flagged, and why."""
    from .ingest import collect_report
    from .store import open_store

    settings = obj.settings()
    with open_store(settings) as store:
        sources, issues = collect_report(store, last=last)
    if sources.empty:
        click.echo("nothing has been collected yet")
        return
    from .textout import escape_control

    for src in sources.itertuples():
        click.echo(f"#{src.id} {_when(settings, src.received_at)} {src.kind} {src.status}: {escape_control(src.path)} "
                   f"({src.rows_accepted:,} accepted, {src.rows_rejected:,} rejected, {src.warnings:,} warnings)"
                   + (f" - {escape_control(src.note)}" if src.status == "failed" and src.note else ""))
        for rec in issues[issues["source_id"] == src.id].itertuples():
            click.echo(f"    {rec.severity} {rec.rule}: {rec.count:,}")
            for line in rec.examples:
                click.echo(f"      {escape_control(line)}")


# ---------------------------------------------------------------------------------------------- compute
@cli.command()
@click.option("--period", default=None, metavar="YYYY-MM", help="One month.")
@click.option("--from", "first", default=None, metavar="YYYY-MM", help="First month of a range.")
@click.option("--to", "last", default=None, metavar="YYYY-MM", help="Last month of a range.")
@click.pass_obj
def compute(obj: _Context, period: str | None, first: str | None, last: str | None) -> None:
    """Compute the diffusion indices, the PMI and the monitoring indicators into the store."""
    from .pipeline import run_stage
    from .store import open_store
    from .store.vintages import vintage_text

    span = ((period, period) if period and not (first or last) else
            (first, last) if first and last and not period else None)
    if span is None:
        raise click.UsageError("give --period YYYY-MM, or --from YYYY-MM --to YYYY-MM")
    a = _month_option(span[0], "--period" if period else "--from")
    b = _month_option(span[1], "--period" if period else "--to")
    if b < a:
        raise click.UsageError(f"--to {b} is before --from {a}")
    current = _this_month()
    if str(b)[:7] > current:
        raise click.UsageError(f"{'--period' if period else '--to'} {b} has not begun (this month is {current}); "
                               "compute months up to the current one")
    settings = obj.settings()
    _setup_logging(settings, obj.verbose)
    with open_store(settings) as store:
        report = run_stage(store, settings, "compute", b, first=a, raise_errors=True).detail
    for family, n in report.written.items():
        click.echo(f"{family}: {n:,} values new or changed ({report.seconds[family]:.1f} s)")
    for family, message in report.failed.items():
        click.echo(f"{family}: failed - {message}")
    click.echo(f"{report.first}..{report.last}: {report.total:,} values written as vintage "
               f"{vintage_text(report.vintage)}")
    if report.failed:
        raise SystemExit(1)


# ---------------------------------------------------------------------------------------------- adjust
@cli.command()
@click.option("--series", "patterns", multiple=True, metavar="PATTERN",
              help="Series key or glob (repeatable); default every series the policy adjusts.")
@click.option("--review", "review", type=int, default=None, metavar="YEAR",
              help="Annual review: re-estimate on data to December of YEAR-1, project YEAR's factors, "
                   "revise the history, and print the revisions report.")
@click.option("--force", is_flag=True, help="Re-estimate series whose data have not changed.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None,
              help="With --review: also write the revisions report to this CSV file.")
@click.pass_obj
def adjust(obj: _Context, patterns: tuple[str, ...], review: int | None, force: bool, csv_path: str | None) -> None:
    """Seasonally adjust the stored series (Spring Festival and working days; X-13ARIMA-SEATS)."""
    from .adjust_review import review_year
    from .pipeline import run_stage
    from .store import open_store

    settings = obj.settings()
    _setup_logging(settings, obj.verbose)
    pattern: Any = list(patterns) if patterns else "*"
    with open_store(settings) as store:
        if review is not None:
            result = review_year(store, settings, review, pattern=pattern, progress=_progress_printer())
            report = result.report
            _end_progress()
            revisions = result.revisions
            click.echo(report.summary())
            if len(revisions):
                for line in result.summary_lines():  # per unit: never kWh averaged with index points
                    click.echo(line)
                if csv_path:
                    from collectors.cells import neutralise

                    text_cols = revisions.select_dtypes(include=["object", "string"]).columns
                    safe = revisions.assign(**{c: revisions[c].map(neutralise) for c in text_cols})
                    safe.to_csv(csv_path, index=False, encoding="utf-8-sig")
                    click.echo(f"revisions report written to {csv_path}")
        else:
            report = run_stage(store, settings, "adjust", None, pattern=pattern, force=force,
                               progress=_progress_printer(), raise_errors=True).detail
            _end_progress()
            matched = (report.adjusted, report.rebuilt, report.unchanged, report.skipped, report.failed,
                       report.not_adjusted)
            if patterns and not any(matched):
                from .exceptions import ConfigError

                raise ConfigError(f"--series {' '.join(patterns)} matches no stored series; give a series key "
                                  "or a glob such as 'pmi/*' (`imon db status` shows what the store holds)")
            click.echo(report.summary())
        for key, message in list(report.failed.items())[:10]:
            click.echo(f"  failed {key}: {message[:300]}")
    if not report.ok:
        raise SystemExit(1)


# ---------------------------------------------------------------------------------------------- forecast
@cli.command()
@click.option("--period", default=None, metavar="YYYY-MM", help="Origin: the last month of data the forecasts use.")
@click.option("--accuracy", is_flag=True, help="The track record: past forecasts and nowcasts against the outcomes.")
@click.option("--skip-nowcast", is_flag=True, help="Only the forecasts: no nowcast, odds or leading indicator.")
@click.option("--series", "series", default=None, metavar="KEY",
              help="Only this series (a key or glob of the forecast series, e.g. iva/yoy@440100, pmi/headline*).")
@click.option("--reidentify", is_flag=True,
              help="Identify the default forecaster's models afresh (the annual review, due every "
                   "forecast.review_months) instead of re-estimating the stored specifications.")
@click.pass_obj
def forecast(obj: _Context, period: str | None, accuracy: bool, skip_nowcast: bool, series: str | None,
             reidentify: bool) -> None:
    """Forecast the configured and key series from a month, nowcast the official target, compute the odds of
    meeting the year's targets and the leading indicators, and store them; or print the track record."""
    import fnmatch

    from .forecasts import resolve_keys
    from .nowcasts import nowcast_accuracy, read_target_odds
    from .pipeline import run_stage
    from .store import open_store
    from .textout import table_lines
    from .track_record import forecast_skill

    if bool(period) == accuracy:
        raise click.UsageError("give either --period YYYY-MM (forecast from that month) or --accuracy "
                               "(compare past forecasts with the outcomes), not both")
    origin = _month_option(period, "--period") if period else None
    settings = obj.settings()
    _setup_logging(settings, obj.verbose)
    with open_store(settings) as store:
        keys = None
        if series is not None:
            known = resolve_keys(store, settings)
            if accuracy:
                from .store.forecast_queries import forecast_origins

                known = sorted(set(known) | set(forecast_origins(store)["series_key"]))
            keys = [k for k in known if fnmatch.fnmatchcase(k, series)]
            if not keys:
                raise click.UsageError(f"--series {series!r} matches none of the {len(known)} forecast series (e.g. "
                                       f"{', '.join(known[:3])}); give a key of forecast.series or "
                                       "forecast.key_series, or a glob such as 'pmi/headline*'")
        if origin is not None:
            reports = run_stage(store, settings, "forecast", origin, nowcast=not skip_nowcast, keys=keys,
                                reidentify=reidentify, raise_errors=True).detail
            if "track" in reports:
                click.echo(reports["track"].summary())
            report = reports["forecast"]
            click.echo(report.summary())
            for key, models in list(report.stored.items())[:20]:
                click.echo(f"  {key}: {models}")
            if len(report.stored) > 20:
                click.echo(f"  ... and {len(report.stored) - 20} more series")
            for key, why in {**report.skipped, **report.failed}.items():
                click.echo(f"  not forecast {key}: {why}")
            if "nowcast" in reports:
                now = reports["nowcast"]
                click.echo(now.summary())
                for note in now.notes:
                    click.echo(f"  {note}")
                odds = reports["odds"]
                click.echo(odds.summary())
                table = read_target_odds(store, origin)
                if not table.empty:
                    shown = table.assign(target=table["comparison"] + table["target"].map("{:g}".format),
                                         ytd=table["ytd"].map("{:.1f}".format),
                                         expected=table["expected"].map("{:.1f}".format),
                                         probability=table["probability"].map("{:.0%}".format))
                    cols = ["indicator", "region", "target", "ytd", "expected", "probability", "method"]
                    for line in table_lines(shown[cols], cols):
                        click.echo(f"  {line}")
                for key, why in odds.failed.items():
                    click.echo(f"  no odds for {key}: {why}")
                click.echo(reports["leading"].summary())
            if any(r.failed for r in reports.values()):
                raise SystemExit(1)
        if accuracy:
            table = forecast_skill(store, settings, keys=keys)
            if table.empty:
                click.echo("no stored forecast has an outcome yet")
            else:
                click.echo("how good our forecasts have been (MASE < 1 beats seasonal naive):")
                shown = table.assign(mae=table["mae"].map("{:.3g}".format), mase=table["mase"].map("{:.2f}".format),
                                     coverage_80=table["coverage_80"].map("{:.0%}".format),
                                     coverage_95=table["coverage_95"].map("{:.0%}".format))
                for line in table_lines(shown, ["series", "months ahead", "n", "MAE", "MASE", "in 80 %", "in 95 %"]):
                    click.echo(line)
            nacc = nowcast_accuracy(store)
            if not nacc.empty and keys is None:
                click.echo("nowcasts against the official figures:")
                shown = nacc.assign(mae=nacc["mae"].map("{:.2f}".format),
                                    coverage_80=nacc["coverage_80"].map("{:.0%}".format))
                cols = ["series_key", "region", "horizon", "n", "mae", "coverage_80"]
                for line in table_lines(shown[cols], ["series", "region", "months ahead", "n", "MAE", "in 80 %"]):
                    click.echo(f"  {line}")


# ---------------------------------------------------------------------------------------------- publish (issue 7)
@cli.group()
def publish() -> None:
    """Publications: PMI release, operation report, dispatch report, annual summary (HTML, PDF, DOCX)."""


def _publish_command(kind: str, period_help: str) -> Any:
    @publish.command(kind, help=f"Build the {period_help} (a draft unless --final or --correct).")
    @click.argument("period")
    @click.option("--lang", type=click.Choice(["zh", "en"]), default=None, help="Language (setting language, zh).")
    @click.option("--final", is_flag=True, help="Make it final (from the configured release time; then immutable).")
    @click.option("--correct", "correct", default=None, metavar="NOTE",
                  help="Publish a corrected final edition with this note.")
    @click.option("--format", "formats", default=None, metavar="LIST",
                  help="Formats, comma-separated: html,pdf,docx (setting publish.formats).")
    @click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
                  help="Folder for the files (default <outputs>/publications).")
    @click.pass_obj
    def command(obj: _Context, period: str, lang: str | None, final: bool, correct: str | None, formats: str | None,
                out: Path | None) -> None:
        from .pipeline import run_stage
        from .publish import parse_period
        from .store import open_store

        p = parse_period(kind, period)  # a bad period is reported before the store is opened
        settings = obj.settings()
        _setup_logging(settings, obj.verbose)
        if kind == "annual":
            from .publish import now_in

            today = now_in(settings)
            if today.year <= p.year:
                click.echo(f"warning: {p.year} is not over (it is {_when(settings, today)});"
                           f" the annual summary of {p.year} covers only the months with data so far, and it "
                           f"cannot be made final before the year's release time", err=True)
        with open_store(settings) as store:
            report = run_stage(store, settings, "publish", p, kinds=[kind], lang=lang, final=final,
                               correct=correct, formats=formats, out_dir=out, raise_errors=True)
        if report.detail["errors"]:
            raise report.detail["errors"][0][3]
        result = report.detail["results"][0]
        click.echo(f"{kind} {result.period} ({result.lang}): {result.label}, id {result.publication_id}, "
                   f"built in {result.seconds['total']:.1f} s")
        for path in result.files:
            click.echo(f"  {path}")

    return command


_publish_command("pmi", "monthly PMI release for PERIOD (YYYY-MM)")
_publish_command("operations", "monthly industrial-operation report for PERIOD (YYYY-MM)")
_publish_command("dispatch", "quarterly dispatch report for PERIOD (YYYYQn)")
_publish_command("annual", "annual summary for PERIOD (YYYY)")


@publish.command("check")
@click.argument("kind", type=click.Choice(["pmi", "operations", "dispatch", "annual"]))
@click.argument("period")
@click.option("--lang", type=click.Choice(["zh", "en"]), default=None, help="Language (setting language, zh).")
@click.option("--final", is_flag=True, help="Refuse (exit 1) when any check fails: the gate before --final.")
@click.pass_obj
def publish_check(obj: _Context, kind: str, period: str, lang: str | None, final: bool) -> None:
    """Audit (审核) the newest built KIND PERIOD: numbers against the store, sums, shares, bounds, wording,
    low-sample flags, empty sections and charts; one line per failed check."""
    from .publish import CHECKS, check_publication, parse_period
    from .store import open_store

    parse_period(kind, period)
    settings = obj.settings()
    with open_store(settings) as store:
        report = check_publication(store, settings, kind, period, lang=lang)
    for f in report.findings:
        click.echo(f"{'refused' if final else 'check failed'}: {f.line()}", err=final)
    looked = ", ".join(f"{c} {report.counted.get(c, 0)}" for c in CHECKS)
    state = "passed" if report.ok else f"{len(report.findings)} failed"
    click.echo(f"{kind} {report.period} ({report.lang}, publication {report.publication_id}): audit {state} "
               f"({looked} items checked)")
    if final and not report.ok:
        raise SystemExit(1)


@publish.command("list")
@click.pass_obj
def publish_list(obj: _Context) -> None:
    """List the stored publications (drafts are version 0)."""
    from .publish import list_publications
    from .store import open_store

    settings = obj.settings()
    with open_store(settings) as store:
        frame = list_publications(store)
    _format_times(frame, ["published_at"], settings, naive="zone")  # stored in the bureau's zone
    _print_frame(frame, ["id", "kind", "period", "lang", "version", "final", "published_at", "note"])


@publish.command("rerender")
@click.argument("publication_id", type=int)
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the files (default <outputs>/publications/rerender).")
@click.option("--format", "formats", default="html", show_default=True, metavar="LIST", help="Formats to write.")
@click.pass_obj
def publish_rerender(obj: _Context, publication_id: int, out: Path | None, formats: str) -> None:
    """Build a stored publication again from the vintages it recorded; check the HTML is unchanged."""
    from .publish import rerender
    from .store import open_store

    with open_store(obj.settings()) as store:
        result = rerender(store, obj.settings(), publication_id, out_dir=out, formats=formats)
    for path in result.files:
        click.echo(f"  {path}")
    if result.release_at is not None:
        from .timeshow import bureau_zone, zone_label

        zone = bureau_zone(obj.settings())
        click.echo(f"release time (as stored with the edition): {result.release_at:%Y-%m-%d %H:%M} "
                   f"{obj.settings()['publish.timezone']} ({zone_label(zone, obj.settings()['language'])})")
    if not result.matches:
        click.echo(f"publication {publication_id}: the re-rendered HTML differs from the stored one", err=True)
        raise SystemExit(1)
    click.echo(f"publication {publication_id}: re-rendered HTML is byte-identical to the stored one")


# ---------------------------------------------------------------------------------------------- alerts (issue 8)
@cli.group()
def alerts() -> None:
    """Early warning: evaluate the rules, list alerts, silence them."""


def _when(settings: Any, value: Any, fmt: str = "%Y-%m-%d %H:%M", naive: str = "local") -> str:
    """A stored time as users see it: in the bureau's zone, labelled (``2026-12-07 16:50 北京时间``)."""
    from .timeshow import bureau_zone, show_time

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
    from .textout import frame_lines

    for line in frame_lines(frame, columns):
        click.echo(line)


@alerts.command("scan")
@click.option("--period", default=None, metavar="YYYY-MM", help="Judge data up to this month (default: all).")
@click.option("--no-send", is_flag=True, help="Queue the digests but do not deliver them.")
@click.option("--wait", "wait", type=float, default=0.0, show_default=True, metavar="SECONDS",
              help="Wait this long for a scan already running on the store (e.g. the scheduler's) instead of refusing.")
@click.pass_obj
def alerts_scan(obj: _Context, period: str | None, no_send: bool, wait: float) -> None:
    """Evaluate every rule, update the alerts, and send the digests owed (re-running sends nothing new)."""
    from .periods import parse_month
    from .pipeline import run_stage
    from .store import open_store

    settings = obj.settings()
    _setup_logging(settings, obj.verbose)
    month = parse_month(period, what="--period") if period else None
    with open_store(settings) as store:
        report = run_stage(store, settings, "alerts", month, send=not no_send, wait=wait, raise_errors=True).detail
    click.echo(f"alert scan: {report.summary()}")
    for group, n in sorted(report.queued.queued.items()):
        click.echo(f"  digest to {group}: {n} notice(s)")
    if report.delivery.failed:
        first = next(iter(report.delivery.failed.values()))
        click.echo(f"imon: error: {first}; {len(report.delivery.failed)} message(s) stay queued for the next run",
                   err=True)
    if report.failed or report.delivery.failed:
        raise SystemExit(1)


@alerts.command("list")
@click.option("--all", "all_", is_flag=True, help="The whole history, not only pending and firing alerts.")
@click.option("--rule", default=None, help="Only this rule.")
@click.option("--region", default=None, metavar="CODE", help="Only this district (or the city, 440100).")
@click.option("--silences", is_flag=True, help="List the silences in force instead.")
@click.pass_obj
def alerts_list(obj: _Context, all_: bool, rule: str | None, region: str | None, silences: bool) -> None:
    """Pending and firing alerts (or the whole history, or the silences in force)."""
    import pandas as pd

    from .alerts import active_silences, list_events
    from .store import open_store

    settings = obj.settings()
    with open_store(settings) as store:
        if silences:
            with store.engine.connect() as conn:
                rows = [s.__dict__ for s in active_silences(conn)]
            frame = pd.DataFrame(rows, columns=["id", "rule", "subject", "region", "reason", "expires_at"])
            _print_frame(_format_times(frame, ["expires_at"], settings),
                         ["id", "rule", "subject", "region", "reason", "expires_at"])
            return
        frame = list_events(store, states=None if all_ else ("pending", "firing"), rule=rule, region=region)
    _print_frame(frame, ["id", "state", "severity", "rule", "subject", "region", "value", "started_period",
                         "last_period", "notified_state"])


@alerts.command("silence")
@click.option("--rule", default=None, help="Rule name (wildcards * allowed).")
@click.option("--subject", default=None, help="Subject, e.g. enterprise/91440114... (wildcards * allowed).")
@click.option("--region", default=None, metavar="CODE", help="District code.")
@click.option("--for", "duration", default=None, help="How long, e.g. 7d or 12h.")
@click.option("--until", default=None, metavar="YYYY-MM-DD[THH:MM]", help="Until when (instead of --for).")
@click.option("--reason", required=True, help="Why (recorded with the silence).")
@click.option("--by", "created_by", default=None, help="Who asked for it.")
@click.pass_obj
def alerts_silence(obj: _Context, rule: str | None, subject: str | None, region: str | None, duration: str | None,
                   until: str | None, reason: str, created_by: str | None) -> None:
    """Silence matching alerts until an expiry, with a reason: they are not notified meanwhile."""
    from .alerts import add_silence
    from .exceptions import ConfigError
    from .settings import parse_duration
    from .store import open_store

    if (duration is None) == (until is None):
        raise ConfigError("give exactly one of --for (e.g. 7d) or --until (e.g. 2026-12-31)")
    from .timeshow import bureau_zone, to_bureau

    settings = obj.settings()
    try:
        # --until is the bureau's time; the store keeps the server's clock
        expires = (dt.datetime.now().replace(microsecond=0) + dt.timedelta(seconds=parse_duration(duration))
                   if duration else to_bureau(dt.datetime.fromisoformat(str(until)), bureau_zone(settings),
                                              naive="zone").astimezone().replace(tzinfo=None))
    except ValueError as exc:
        raise ConfigError(f"--for {duration!r} / --until {until!r} is invalid ({exc}); e.g. --for 7d or "
                          "--until 2026-12-31") from None
    with open_store(obj.settings()) as store:
        sid = add_silence(store, reason=reason, expires_at=expires, rule=rule, subject=subject, region=region,
                          created_by=created_by)
    click.echo(f"silence {sid} until {_when(settings, expires)}: rule={rule or '*'} subject={subject or '*'} "
               f"region={region or '*'}")


@alerts.command("unsilence")
@click.argument("silence_id", type=int)
@click.pass_obj
def alerts_unsilence(obj: _Context, silence_id: int) -> None:
    """End a silence now (its alerts are notified again on the next scan if still firing)."""
    from .alerts import end_silence
    from .exceptions import ConfigError
    from .store import open_store

    with open_store(obj.settings()) as store:
        if not end_silence(store, silence_id):
            raise ConfigError(f"there is no active silence {silence_id}; `imon alerts list --silences` lists them")
    click.echo(f"silence {silence_id} ended")


@alerts.command("history")
@click.option("--last", default=20, show_default=True, help="How many messages.")
@click.pass_obj
def alerts_history(obj: _Context, last: int) -> None:
    """The digests queued and sent, with their delivery attempts (the notification log)."""
    from .store import open_store
    from .store.alerts import notification_log

    settings = obj.settings()
    with open_store(settings) as store:
        frame = notification_log(store, last=last)
    _format_times(frame, ["created_at", "sent_at"], settings)
    _print_frame(frame, ["id", "grp", "status", "attempts", "created_at", "sent_at", "error", "subject"])


# ---------------------------------------------------------------------------------------------- schedule (issue 8)
@cli.group(invoke_without_command=True)
@click.pass_context
def schedule(ctx: click.Context) -> None:
    """The unattended scheduler; without a subcommand it runs (same as `imon schedule run`)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(schedule_run)


@schedule.command("run")
@click.option("--for", "max_seconds", type=float, default=None, help="Stop after this many seconds (testing).")
@click.pass_obj
def schedule_run(obj: _Context, max_seconds: float | None) -> None:
    """Run the scheduler in the foreground until SIGTERM or Ctrl-C (one per store; the jobs from schedule.*)."""
    from .scheduling import SchedulerService
    from .store import open_store

    settings = obj.settings()
    _setup_logging(settings, obj.verbose)
    with open_store(settings) as store:
        service = SchedulerService(store, settings)
        click.echo(f"scheduler on {store.url} ({', '.join(sorted(service.triggers)) or 'no jobs'}); "
                   "stop with SIGTERM or Ctrl-C", err=True)
        service.run(max_seconds=max_seconds)
    click.echo("scheduler stopped", err=True)


@schedule.command("history")
@click.option("--last", default=30, show_default=True, help="How many runs.")
@click.option("--job", default=None, help="Only this job or stage.")
@click.pass_obj
def schedule_history(obj: _Context, last: int, job: str | None) -> None:
    """The latest runs of scheduled jobs and pipeline stages, with their status."""
    from .scheduling import job_history
    from .store import open_store

    settings = obj.settings()
    with open_store(settings) as store:
        frame = job_history(store, limit=last, job=job)
    frame["message"] = frame["message"].astype(str).str.slice(0, 80)
    _format_times(frame, ["scheduled_for", "started_at"], settings)
    _print_frame(frame, ["id", "job", "period", "scheduled_for", "started_at", "status", "message"])


# ---------------------------------------------------------------------------------------------- demo
@cli.command()
@click.option("--seed", type=int, default=None, help="Generator seed (setting demo.seed, default 2017).")
@click.option("--enterprises", type=int, default=None, help="Enterprises active each month (demo.enterprises, 1200).")
@click.option("--start", default=None, metavar="YYYY-MM", help="First month (demo.start, default 2012-01).")
@click.option("--end", default=None, metavar="YYYY-MM", help="Last month (demo.end, default the last complete month).")
@click.option("--rebuild", is_flag=True, help="Regenerate even if the store already holds this build.")
@click.option("--scale", type=click.Choice(["city", "province"]), default="city", show_default=True,
              help="province: 21 cities' panels and a national-size feed as Parquet, indicators on Dask.")
@click.option("--feed-users", type=click.IntRange(min=10), default=5000, show_default=True,
              help="With --scale province: industrial users in the synthetic national feed (31 days x users rows "
                   "a month).")
@click.pass_obj
def demo(obj: _Context, seed: int | None, enterprises: int | None, start: str | None, end: str | None,
         rebuild: bool, scale: str, feed_users: int) -> None:
    """Build (or reuse) the demo store and run the whole monthly cycle on it."""
    from .demo.runner import demo_params, run_demo
    from .store import open_store
    from .summary import format_summary, panel_summary

    if scale == "province":
        _province_demo(obj, seed, enterprises, start, end, rebuild, feed_users)
        return
    settings = obj.settings(**{"demo.seed": seed, "demo.enterprises": enterprises,
                               "demo.start": start, "demo.end": end})
    demo_params(settings)  # validate before anything is written
    _setup_logging(settings, obj.verbose)
    run = run_demo(settings, rebuild=rebuild, progress=_progress_printer())
    _end_progress()
    p = run.params
    if run.built:
        click.echo(f"demo panel built: seed {p.seed}, {p.enterprises} enterprises a month, {p.start}..{p.end}; "
                   f"generated in {run.generator_seconds:.1f} s, stored in {run.load_seconds:.1f} s "
                   f"({sum(run.rows.values()):,} rows)")
        click.echo(f"current round {p.end} written as input files in {run.inbox_seconds:.1f} s: {run.inbox}")
    else:
        click.echo(f"demo store already holds seed {p.seed}, {p.enterprises} enterprises, {p.start}..{p.end} "
                   "(use --rebuild to regenerate)")
    by_status: dict[str, int] = {}
    for o in run.collected:
        by_status[o.status] = by_status.get(o.status, 0) + 1
    click.echo(f"collected {len(run.collected)} file(s) from {run.inbox} in {run.collect_seconds:.1f} s: "
               + ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
               + f"; {sum(o.rows_new for o in run.collected):,} new or changed rows, "
               f"{sum(o.rows_rejected for o in run.collected):,} rejected, "
               f"{sum(o.warnings for o in run.collected):,} warnings (imon collect report)")
    for stage in run.stages:
        if stage.name != "collect":  # reported above, file by file
            click.echo(f"stage {stage.name}: {stage.status} ({stage.seconds:.1f} s) {stage.message}")
    with open_store(settings) as store:
        summary = panel_summary(store, lang=settings["language"])
    click.echo("")
    click.echo(format_summary(summary, lang=settings["language"], outputs=settings.outputs_dir))
    _print_demo_logins(settings)
    if not run.ok:
        raise SystemExit(1)


def _province_demo(obj: _Context, seed: int | None, enterprises: int | None, start: str | None, end: str | None,
                   rebuild: bool, feed_users: int) -> None:
    """``imon demo --scale province`` (issue 20)."""
    from .demo.province import province_params, run_province

    settings = obj.settings(**{"demo.seed": seed})
    _setup_logging(settings, obj.verbose)
    params = province_params(settings, enterprises=enterprises, start=start, end=end, feed_users=feed_users)
    run = run_province(settings, params, rebuild=rebuild, progress=_progress_printer())
    _end_progress()
    rows = ", ".join(f"{k} {v:,}" for k, v in run.readings.items())
    click.echo(f"province build {'generated' if run.built else 'reused'} in {run.seconds['generate']:.1f} s: "
               f"{params.cities} cities x {params.enterprises} enterprises and {params.feed_users:,} feed users, "
               f"{params.start}..{params.end}; daily readings archived as Parquet ({rows}) in {run.root}")
    click.echo(f"indicators on Dask ({run.workers} workers) in {run.seconds['indicators']:.1f} s; "
               f"{run.written['series values']:,} values new or changed in {run.store_url}")


# ---------------------------------------------------------------------------------------------- web (issue 18)
def _print_demo_logins(settings: Settings) -> None:
    from .store import open_store
    from .web.demo import demo_logins

    with open_store(settings) as store:
        logins = demo_logins(store, settings)
    if not logins:
        return
    click.echo("")
    click.echo(f"web portal: `imon serve`, then open http://{settings['web.host']}:{settings['web.port']}/ "
               "(demo logins, this demo store only):")
    for login in logins:
        kind = "activation code at /activate" if "activation" in login.role else "password"
        click.echo(f"  {login.role:<24} {login.username:<20} {kind}: {login.secret}  {login.note}")


from .web.cli import register as _register_web  # noqa: E402

_register_web(cli)


def _this_month() -> str:
    today = dt.date.today()
    return f"{today.year:04d}-{today.month:02d}"


def _busy_error(exc: BaseException) -> MonitorError | None:
    """A "database is locked" (SQLite) or lock-timeout (PostgreSQL) error said as "busy, retry" (exit 75)."""
    from sqlalchemy.exc import OperationalError

    from .exceptions import StoreBusyError
    from .store import is_busy

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


if __name__ == "__main__":  # pragma: no cover
    main()
