"""``imon`` compute, adjust and forecast: the monthly cycle's computing stages."""

from __future__ import annotations

from typing import Any

import click

from ._app import _Context, _end_progress, _month_option, _progress_printer, _setup_logging, _this_month, _when, cli


# ---------------------------------------------------------------------------------------------- compute
@cli.command()
@click.option("--period", default=None, metavar="YYYY-MM", help="One month.")
@click.option("--from", "first", default=None, metavar="YYYY-MM", help="First month of a range.")
@click.option("--to", "last", default=None, metavar="YYYY-MM", help="Last month of a range.")
@click.pass_obj
def compute(obj: _Context, period: str | None, first: str | None, last: str | None) -> None:
    """Compute the diffusion indices, the PMI and the monitoring indicators into the store."""
    from ..pipeline import run_stage
    from ..store import open_store
    from ..store.vintages import vintage_text

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
               f"{vintage_text(report.vintage)} ({_when(settings, report.vintage, '%Y-%m-%d %H:%M:%S', 'utc')})")
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
    from ..adjust_review import review_year
    from ..pipeline import run_stage
    from ..store import open_store

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
                from ..exceptions import ConfigError

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

    from ..forecasts import resolve_keys
    from ..nowcasts import nowcast_accuracy, read_target_odds
    from ..pipeline import run_stage
    from ..store import open_store
    from ..textout import table_lines
    from ..track_record import forecast_skill

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
                from ..store.forecast_queries import forecast_origins

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
