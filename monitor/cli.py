"""The ``imon`` command line: a thin shell over the library.

Exit status: 0 success; 1 the work ran but found problems; 2 usage or
configuration error (one line on stderr naming the problem and the fix).
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import click

from .exceptions import MonitorError
from .settings import Settings, load_settings, settings_markdown

__all__ = ["cli", "main"]

log = logging.getLogger("monitor")


class _Context:
    """Lazily resolved settings shared by the subcommands."""

    def __init__(self, config: str | None) -> None:
        self.config = config
        self._settings: Settings | None = None

    def settings(self, **overrides: Any) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
        if overrides:
            return self._settings.with_overrides(**{k.replace(".", "__"): v for k, v in overrides.items()
                                                   if v is not None})
        return self._settings


def _progress_printer() -> Any:
    """Progress lines on stderr when it is a terminal; nothing when piped."""
    if not sys.stderr.isatty():
        return None
    return lambda message: click.echo(f"  … {message}", err=True)


def _setup_logging(settings: Settings, verbose: int) -> None:
    root = logging.getLogger("monitor")
    if getattr(root, "_imon_configured", False):
        return
    root.setLevel(logging.DEBUG)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    stderr = logging.StreamHandler()
    stderr.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    stderr.setFormatter(fmt)
    root.addHandler(stderr)
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(settings.data_dir / "imon.log", encoding="utf-8")
        handler.setLevel(settings["log_level"])
        handler.setFormatter(fmt)
        root.addHandler(handler)
    except OSError as exc:
        log.warning("cannot write the log file in %s (%s); logging to stderr only", settings.data_dir, exc)
    root._imon_configured = True  # type: ignore[attr-defined]


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
    rows = settings.display()
    if as_json:
        click.echo(json.dumps({k: {"value": v, "source": s} for k, v, s in rows}, ensure_ascii=False, indent=2))
        return
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
    from .store.engine import create_store_engine
    from .store.migrate import upgrade

    settings = obj.settings()
    engine = create_store_engine(settings.store_url, echo=settings["store.echo"])
    try:
        before, after = upgrade(engine, revision)
    finally:
        engine.dispose()
    click.echo(f"store schema: {before or '(empty)'} -> {after}" if before != after else f"store schema at {after}")


@db.command("status")
@click.pass_obj
def db_status(obj: _Context) -> None:
    """Show the store's location, schema revision and row counts."""
    from .store import models as m
    from .store import open_store

    settings = obj.settings()
    with open_store(settings) as store:
        from .store.migrate import current_revision

        click.echo(f"store: {store.url}")
        click.echo(f"schema revision: {current_revision(store.engine)}")
        for table in m.metadata.sorted_tables:
            click.echo(f"  {table.name:<26}{store.count(table):>12,}")


# ---------------------------------------------------------------------------------------------- demo
@cli.command()
@click.option("--seed", type=int, default=None, help="Generator seed (setting demo.seed, default 2017).")
@click.option("--enterprises", type=int, default=None, help="Enterprises active each month (demo.enterprises, 1200).")
@click.option("--start", default=None, metavar="YYYY-MM", help="First month (demo.start, default 2012-01).")
@click.option("--end", default=None, metavar="YYYY-MM", help="Last month (demo.end, default the last complete month).")
@click.option("--rebuild", is_flag=True, help="Regenerate even if the store already holds this build.")
@click.pass_obj
def demo(obj: _Context, seed: int | None, enterprises: int | None, start: str | None, end: str | None,
         rebuild: bool) -> None:
    """Build (or reuse) the demo store and run the whole monthly cycle on it."""
    from .pipeline import demo_params, run_demo
    from .store import open_store
    from .summary import format_summary, panel_summary

    settings = obj.settings(**{"demo.seed": seed, "demo.enterprises": enterprises,
                               "demo.start": start, "demo.end": end})
    demo_params(settings)  # validate before anything is written
    _setup_logging(settings, obj.verbose)
    run = run_demo(settings, rebuild=rebuild, progress=_progress_printer())
    p = run.params
    if run.built:
        click.echo(f"demo panel built: seed {p.seed}, {p.enterprises} enterprises a month, {p.start}..{p.end}; "
                   f"generated in {run.generator_seconds:.1f} s, stored in {run.load_seconds:.1f} s "
                   f"({sum(run.rows.values()):,} rows)")
    else:
        click.echo(f"demo store already holds seed {p.seed}, {p.enterprises} enterprises, {p.start}..{p.end} "
                   "(use --rebuild to regenerate)")
    for stage in run.stages:
        click.echo(f"stage {stage.name}: {stage.status} ({stage.seconds:.1f} s) {stage.message}")
    with open_store(settings) as store:
        summary = panel_summary(store, lang=settings["language"])
    click.echo("")
    click.echo(format_summary(summary, lang=settings["language"], outputs=settings.outputs_dir))
    if not run.ok:
        raise SystemExit(1)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``imon``: library errors and usage errors become one line and an exit status."""
    try:
        cli.main(args=argv, prog_name="imon", standalone_mode=False)
    except click.exceptions.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        click.echo(f"imon: error: {exc.format_message()}{hint}", err=True)
        raise SystemExit(2) from None
    except click.exceptions.Abort:
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


if __name__ == "__main__":  # pragma: no cover
    main()
