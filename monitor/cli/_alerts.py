"""``imon`` alerts and schedule: early warning and the unattended scheduler."""

from __future__ import annotations

import datetime as dt

import click

from ._app import _Context, _format_times, _print_frame, _setup_logging, _when, cli


# ---------------------------------------------------------------------------------------------- alerts (issue 8)
@cli.group()
def alerts() -> None:
    """Early warning: evaluate the rules, list alerts, silence them."""


@alerts.command("scan")
@click.option("--period", default=None, metavar="YYYY-MM", help="Judge data up to this month (default: all).")
@click.option("--no-send", is_flag=True, help="Queue the digests but do not deliver them.")
@click.option("--wait", "wait", type=float, default=0.0, show_default=True, metavar="SECONDS",
              help="Wait this long for a scan already running on the store (e.g. the scheduler's) instead of refusing.")
@click.pass_obj
def alerts_scan(obj: _Context, period: str | None, no_send: bool, wait: float) -> None:
    """Evaluate every rule, update the alerts, and send the digests owed (re-running sends nothing new)."""
    from ..periods import parse_month
    from ..pipeline import run_stage
    from ..store import open_store

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

    from ..alerts import active_silences, list_events
    from ..store import open_store

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
    from ..alerts import add_silence
    from ..exceptions import ConfigError
    from ..settings import parse_duration
    from ..store import open_store

    if (duration is None) == (until is None):
        raise ConfigError("give exactly one of --for (e.g. 7d) or --until (e.g. 2026-12-31)")
    from ..timeshow import bureau_zone, to_bureau

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
    from ..alerts import end_silence
    from ..exceptions import ConfigError
    from ..store import open_store

    with open_store(obj.settings()) as store:
        if not end_silence(store, silence_id):
            raise ConfigError(f"there is no active silence {silence_id}; `imon alerts list --silences` lists them")
    click.echo(f"silence {silence_id} ended")


@alerts.command("history")
@click.option("--last", default=20, show_default=True, help="How many messages.")
@click.pass_obj
def alerts_history(obj: _Context, last: int) -> None:
    """The digests queued and sent, with their delivery attempts (the notification log)."""
    from ..store import open_store
    from ..store.alerts import notification_log

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
    from ..scheduling import SchedulerService
    from ..store import open_store

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
    from ..scheduling import job_history
    from ..store import open_store

    settings = obj.settings()
    with open_store(settings) as store:
        frame = job_history(store, limit=last, job=job)
    frame["message"] = frame["message"].astype(str).str.slice(0, 80)
    _format_times(frame, ["scheduled_for", "started_at"], settings)
    _print_frame(frame, ["id", "job", "period", "scheduled_for", "started_at", "status", "message"])
