"""Ready-made logins for the demo store (printed by ``imon demo``): one account per role, an enterprise with a
password, another with an activation code, and the current month's round open on the portal."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from ..periods import now as _now
from ..settings import Settings
from ..store import Store
from ..store import portal as q
from .accounts import add_user, invite
from .exceptions import AccountError

__all__ = ["DemoLogin", "demo_logins", "DEMO_PASSWORD"]

#: The demo's shared password: the demo store is disposable and local; never use it elsewhere.
DEMO_PASSWORD = "demo-password"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    secret: str  # the password, or the activation code for ``/activate``
    note: str


def demo_logins(store: Store, settings: Settings) -> list[DemoLogin]:
    """Create (once) the demo accounts and open the current month's round; returns what to print."""
    period = _now().strftime("%Y-%m")
    with store.engine.connect() as conn:
        sample = q.sample_enterprises(conn, period, "440103") or q.sample_enterprises(conn, period)
    if len(sample) < 2:
        return []
    out: list[DemoLogin] = []
    for role, name, district in (("admin", "demo-admin", None), ("staff", "demo-staff", None),
                                 ("leader", "demo-leader", None), ("district", "demo-440103", "440103")):
        try:
            add_user(store, username=name, role=role, password=DEMO_PASSWORD, district=district,
                     display_name=name, email=f"{name}@demo.invalid")
        except (AccountError, IntegrityError):
            pass  # made by an earlier run
        out.append(DemoLogin(role, name, DEMO_PASSWORD, ""))
    first = sample[0]
    try:
        add_user(store, username=first.uscc, role="enterprise", password=DEMO_PASSWORD, uscc=first.uscc,
                 display_name=first.name_zh, email="enterprise@demo.invalid")
    except (AccountError, IntegrityError):
        pass
    out.append(DemoLogin("enterprise", first.uscc, DEMO_PASSWORD, first.name_zh))
    codes = invite(store, settings, period, district=sample[1].district_code, only_new=True)
    code = next((c for c in codes if c.uscc == sample[1].uscc), codes[0] if codes else None)
    if code is not None:
        out.append(DemoLogin("enterprise (activation)", code.uscc, code.code, code.name))
    return out
