"""``imon`` publish: the publications and their audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ._app import _Context, _format_times, _print_frame, _setup_logging, _when, cli


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
        from ..pipeline import run_stage
        from ..publish import parse_period
        from ..store import open_store

        p = parse_period(kind, period)  # a bad period is reported before the store is opened
        settings = obj.settings()
        _setup_logging(settings, obj.verbose)
        if kind == "annual":
            from ..publish import now_in

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
    from ..publish import CHECKS, check_publication, parse_period
    from ..store import open_store

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
    from ..publish import list_publications
    from ..store import open_store

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
    from ..publish import rerender
    from ..store import open_store

    with open_store(obj.settings()) as store:
        result = rerender(store, obj.settings(), publication_id, out_dir=out, formats=formats)
    for path in result.files:
        click.echo(f"  {path}")
    if result.release_at is not None:
        from ..timeshow import bureau_zone, zone_label

        zone = bureau_zone(obj.settings())
        click.echo(f"release time (as stored with the edition): {result.release_at:%Y-%m-%d %H:%M} "
                   f"{obj.settings()['publish.timezone']} ({zone_label(zone, obj.settings()['language'])})")
    if not result.matches:
        click.echo(f"publication {publication_id}: the re-rendered HTML differs from the stored one", err=True)
        raise SystemExit(1)
    click.echo(f"publication {publication_id}: re-rendered HTML is byte-identical to the stored one")
