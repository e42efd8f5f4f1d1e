"""``imon serve``, ``imon portal`` and ``imon users``: the web platform's commands (issue 18)."""

from __future__ import annotations

import csv
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from ..logfile import attach_log_file
from ..settings import Settings

__all__ = ["serve", "portal", "users"]


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading = + - @ (or tab, CR) is prefixed with an apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _setup_logging(settings: Settings, verbose: int) -> None:
    """The server's log: warnings on stderr, the configured level in ``<data_dir>/imon.log`` (as the CLI's)."""
    root = logging.getLogger("monitor")
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not getattr(root, "_imon_stderr", False):
        root.setLevel(logging.DEBUG)
        stderr = logging.StreamHandler()
        stderr.setLevel(logging.INFO if verbose else logging.WARNING)
        stderr.setFormatter(fmt)
        root.addHandler(stderr)
        root._imon_stderr = True  # type: ignore[attr-defined]
    attach_log_file(root, settings.data_dir, settings["log_level"], fmt)


def _print_frame(frame: Any, columns: list[str]) -> None:
    from ..textout import frame_lines

    for line in frame_lines(frame, columns):
        click.echo(line)


@click.command()
@click.option("--host", default=None, help="Address to listen on (web.host, default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (web.port, default 8000).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: one per core of this machine).")
@click.pass_obj
def serve(obj: Any, host: str | None, port: int | None, workers: int | None) -> None:
    """Run the web platform (the enterprise portal and survey operations) until Ctrl-C or SIGTERM."""
    import uvicorn

    from ..store import open_store

    settings = obj.settings(**{"web.host": host, "web.port": port})
    _setup_logging(settings, obj.verbose)
    with open_store(settings) as store:  # migrate a new store once, before the workers start
        shown = store.url
    if obj.config:
        os.environ["IMON_CONFIG"] = str(Path(obj.config).resolve())

    click.echo(f"portal on http://{settings['web.host']}:{settings['web.port']}/ (store {shown}); stop with Ctrl-C",
               err=True)
    uvicorn.run("monitor.web.asgi:app_factory", factory=True, host=settings["web.host"], port=settings["web.port"],
                workers=workers or os.cpu_count() or 1, proxy_headers=True, forwarded_allow_ips=settings["web.proxy_ips"],
                access_log=False, log_level="warning", server_header=False)


@click.group()
def portal() -> None:
    """The survey portal: invitations (activation codes) and rounds."""


@portal.command("invite")
@click.option("--period", required=True, metavar="YYYY-MM", help="Survey month.")
@click.option("--district", default=None, metavar="CODE", help="Only this district's enterprises.")
@click.option("--new-only", is_flag=True, help="Skip enterprises that already have an account.")
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="Write the codes to this CSV file (for the survey letters) instead of the terminal.")
@click.pass_obj
def portal_invite(obj: Any, period: str, district: str | None, new_only: bool, out: str | None) -> None:
    """One-time activation codes for the sample enterprises of a month; opens the month's round.

    The codes are shown once (the store keeps only their digests)."""
    from ..store import open_store
    from .accounts import invite

    settings = obj.settings()
    with open_store(settings) as store:
        invitations = invite(store, settings, period, district=district, only_new=new_only)
    rows = [[i.uscc, i.name, i.district, i.contact or "", i.code, f"{i.expires:%Y-%m-%d}"] for i in invitations]
    header = ["uscc", "name", "district", "contact", "activation_code", "expires"]
    if out:
        with open(out, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows([[_cell(c) for c in r] for r in rows])
        click.echo(f"{len(rows)} activation code(s) for {period} written to {out}; the portal: "
                   f"{settings['web.base_url']}/activate")
    else:
        writer = csv.writer(sys.stdout)
        writer.writerow(header)
        writer.writerows([[_cell(c) for c in r] for r in rows])


@portal.command("close")
@click.option("--period", required=True, metavar="YYYY-MM", help="Survey month.")
@click.pass_obj
def portal_close(obj: Any, period: str) -> None:
    """Close a month's round: the portal takes no more submissions or corrections for it."""
    from ..store import open_store
    from .operations import close_round

    with open_store(obj.settings()) as store:
        done = close_round(store, period, by=None, ip=None)
    click.echo(f"round {period} closed" if done else f"round {period} was already closed")


@click.group()
def users() -> None:
    """Accounts of the web platform."""


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["enterprise", "staff", "district", "leader", "admin"]))
@click.option("--district", default=None, metavar="CODE", help="The district of a district official.")
@click.option("--email", default=None, help="E-mail address (reminders, notices).")
@click.option("--name", "display_name", default=None, help="Name shown in the portal.")
@click.option("--password", default=None, help="Initial password (default: asked; or $IMON_NEW_PASSWORD).")
@click.pass_obj
def users_add(obj: Any, username: str, role: str, district: str | None, email: str | None,
              display_name: str | None, password: str | None) -> None:
    """Create an account (an enterprise's user name is its credit code)."""
    from ..store import open_store
    from .accounts import add_user

    password = password or os.environ.get("IMON_NEW_PASSWORD") or click.prompt(
        "password", hide_input=True, confirmation_prompt=True)
    with open_store(obj.settings()) as store:
        user = add_user(store, username=username, role=role, password=password, district=district, email=email,
                        display_name=display_name)
    click.echo(f"account {user.username} ({user.role}) created")


@users.command("list")
@click.pass_obj
def users_list(obj: Any) -> None:
    """Every account with its role, district, state and last sign-in."""
    from ..store import open_store
    from ..timeshow import bureau_zone, show_time
    from .accounts import list_users

    settings = obj.settings()
    with open_store(settings) as store:
        frame = list_users(store)
    zone = bureau_zone(settings)
    for col in ("locked_until", "last_login"):
        frame[col] = [show_time(v, zone, settings["language"]) if v is not None and v == v else "" for v in frame[col]]
    _print_frame(frame, ["username", "role", "uscc", "district", "email", "active", "locked_until", "last_login"])


@users.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True, help="Re-enable instead.")
@click.pass_obj
def users_disable(obj: Any, username: str, enable: bool) -> None:
    """Disable an account (its sessions end at once), or re-enable it."""
    from ..store import open_store
    from .accounts import set_user_active

    with open_store(obj.settings()) as store:
        set_user_active(store, username, enable)
    click.echo(f"account {username} {'enabled' if enable else 'disabled'}")


@users.command("reset-password")
@click.argument("username")
@click.option("--password", default=None, help="Temporary password (default: asked; or $IMON_NEW_PASSWORD).")
@click.pass_obj
def users_reset(obj: Any, username: str, password: str | None) -> None:
    """Set a temporary password; the user must choose a new one at the next sign-in."""
    from ..store import open_store
    from .accounts import reset_password

    password = password or os.environ.get("IMON_NEW_PASSWORD") or click.prompt(
        "temporary password", hide_input=True, confirmation_prompt=True)
    with open_store(obj.settings()) as store:
        reset_password(store, username, password)
    click.echo(f"password of {username} reset; it must be changed at the next sign-in")


def register(cli: Any) -> None:
    """Add the commands to the ``imon`` group."""
    for command in (serve, portal, users):
        cli.add_command(command)
