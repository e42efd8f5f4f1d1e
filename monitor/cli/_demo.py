"""``imon`` demo: the demo store and its monthly cycle, with the web logins it prints."""

from __future__ import annotations

import click

from ..settings import Settings
from ._app import _Context, _end_progress, _progress_printer, _setup_logging, cli


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
    from ..demo.runner import demo_params, run_demo
    from ..store import open_store
    from ..summary import format_summary, panel_summary

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
    from ..demo.province import province_params, run_province

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
    from ..store import open_store
    from ..web.demo import demo_logins

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
