"""End to end in a real browser: Debian's Chromium driven by Playwright against ``uvicorn`` on loopback.

An enterprise activates its account, signs out and in, meets a hard error next to a field, saves a draft, confirms
soft warnings with a reason, submits, and corrects; the store then holds exactly those answers with provenance
``portal``.  Screenshots at 375 px (a phone's WeChat browser) and 1,280 px are kept in var/test-artefacts/.
Skipped, with the reason, when Chromium (``make system-deps`` installs Debian's) or Playwright is missing.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from monitor.store import Store
from monitor.web import create_app
from monitor.web.accounts import invite
from tests.browser_helpers import ARTEFACTS, chromium, live_server, require_browser
from tests.web_helpers import PASSWORD, PERIOD, A, register, settings_for

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path):
    require_browser()
    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite'}")
    register(store)
    settings = settings_for(tmp_path)
    code = next(i.code for i in invite(store, settings, PERIOD) if i.uscc == A)
    with live_server(create_app(settings, store)) as base:
        yield base, store, code
    store.close()


@pytest.fixture
def browser():
    with chromium() as b:
        yield b


def _shot(page, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def _answer_all(page, value: str = "0") -> None:
    for code in ("production", "new_orders", "new_export_orders", "backlog_orders", "finished_goods_inventory",
                 "purchase_quantity", "imports", "input_prices", "output_prices", "raw_materials_inventory",
                 "employment", "supplier_delivery_time", "expectations"):
        page.check(f"input[name=q_{code}][value='{value}']")


def test_enterprise_journey_in_chromium(server, browser):
    base, store, code = server
    phone = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=2, is_mobile=True)
    page = phone.new_page()
    page.goto(f"{base}/activate")
    _shot(page, "activate-375")
    page.fill("#code", code.lower().replace("-", " "))  # typed loosely: case and separators do not matter
    page.fill("#password", PASSWORD)
    page.fill("#email", "contact@example.com")
    page.click("button[type=submit]")
    page.wait_for_url(f"**/q/{PERIOD}**")
    page.click("header button")  # sign out, then sign in with the new password
    page.wait_for_url("**/login")
    page.fill("#username", A)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/q/{PERIOD}")
    # the page fits a 375 px screen: nothing wider than the viewport
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    _answer_all(page)
    page.fill("#f_output_value", "12O")  # a letter O for a zero
    page.fill("#f_electricity_kwh", "10000")
    page.click("#submit")
    error = page.locator("#error-output_value")
    assert error.is_visible() and "12O" in error.inner_text()
    _shot(page, "hard-error-375")
    page.fill("#f_output_value", "2000")
    page.check("input[name=q_production][value='1']")
    page.fill("#f_electricity_kwh", "1000")
    page.click("#save-draft")
    assert page.locator("#draft-saved").is_visible()
    page.goto(f"{base}/q/{PERIOD}")  # the draft is what the page shows next time
    assert page.input_value("#f_output_value") == "2000"
    page.click("#submit")
    assert page.locator("#warnings").is_visible()
    _shot(page, "soft-warning-375")
    page.fill("textarea[name='reason__unusual_value__output_value']", "新生产线十月投产")
    page.fill("textarea[name='reason__production_vs_electricity__production']", "自备光伏发电")
    page.click("#submit")
    page.wait_for_load_state()
    assert "/receipt/" in page.url, page.inner_text("main")[:1500]
    assert page.locator("#receipt-no").inner_text().startswith(PERIOD.replace("-", ""))
    _shot(page, "receipt-375")
    # a correction from a desktop
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    dpage = desk.new_page()
    dpage.goto(f"{base}/login")
    dpage.fill("#username", A)
    dpage.fill("#password", PASSWORD)
    dpage.click("button[type=submit]")
    dpage.wait_for_url(f"**/q/{PERIOD}")
    assert dpage.is_checked("input[name=q_production][value='1']")
    dpage.check("input[name=q_new_orders][value='-1']")
    dpage.check("input[name=p][value='tight_funding']")
    _shot(dpage, "questionnaire-1280")
    dpage.click("#submit")  # the reasons given before still confirm the same warnings
    dpage.wait_for_load_state()
    assert "/receipt/" in dpage.url, dpage.inner_text("main")[:1500]
    _shot(dpage, "receipt-1280")
    phone.close()
    desk.close()
    with store.engine.connect() as conn:
        answers = dict(conn.execute(text(
            "SELECT r.question, r.answer FROM survey_response r JOIN enterprise e ON e.id = r.enterprise_id "
            "WHERE e.uscc = :u AND r.period = :p"), {"u": A, "p": PERIOD}).all())
        kinds = conn.execute(text(
            "SELECT DISTINCT s.kind, s.note, r.revision FROM survey_response r JOIN ingest_source s ON "
            "s.id = r.source_id")).all()
        ops = conn.execute(text("SELECT output_value, electricity_kwh FROM enterprise_month m JOIN enterprise e ON "
                                "e.id = m.enterprise_id WHERE e.uscc = :u AND m.period = :p"),
                           {"u": A, "p": PERIOD}).one()
        problems = conn.execute(text("SELECT problem FROM survey_problem")).scalars().all()
        history = conn.execute(text("SELECT count(*) FROM survey_response_history")).scalar()
        subs = conn.execute(text("SELECT seq FROM portal_submission ORDER BY seq")).scalars().all()
    expected = dict.fromkeys(["production", "new_orders", "new_export_orders", "backlog_orders",
                              "finished_goods_inventory", "purchase_quantity", "imports", "input_prices",
                              "output_prices", "raw_materials_inventory", "employment", "supplier_delivery_time",
                              "expectations"], 0)
    expected.update(production=1, new_orders=-1)
    assert answers == expected
    assert kinds == [("portal", f"web portal, user {A}", 2)]
    assert tuple(ops) == (2000.0, 1000.0) and problems == ["tight_funding"]
    assert history == 13 and subs == [1, 2]
    for name in ("activate-375", "hard-error-375", "soft-warning-375", "receipt-375", "questionnaire-1280",
                 "receipt-1280"):
        assert (ARTEFACTS / f"{name}.png").stat().st_size > 5000
