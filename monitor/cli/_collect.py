"""``imon`` collect: files in, and what came in."""

from __future__ import annotations

from pathlib import Path

import click

from ._app import _Context, _end_progress, _progress_printer, _setup_logging, _when, cli


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

    from ..exceptions import InputPathError
    from ..ingest import check_paths
    from ..pipeline import run_stage
    from ..store import open_store
    from ..textout import escape_control

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
    from ..ingest import collect_report
    from ..store import open_store

    settings = obj.settings()
    with open_store(settings) as store:
        sources, issues = collect_report(store, last=last)
    if sources.empty:
        click.echo("nothing has been collected yet")
        return
    from ..textout import escape_control

    for src in sources.itertuples():
        click.echo(f"#{src.id} {_when(settings, src.received_at)} {src.kind} {src.status}: {escape_control(src.path)} "
                   f"({src.rows_accepted:,} accepted, {src.rows_rejected:,} rejected, {src.warnings:,} warnings)"
                   + (f" - {escape_control(src.note)}" if src.status == "failed" and src.note else ""))
        for rec in issues[issues["source_id"] == src.id].itertuples():
            click.echo(f"    {rec.severity} {rec.rule}: {rec.count:,}")
            for line in rec.examples:
                click.echo(f"      {escape_control(line)}")
