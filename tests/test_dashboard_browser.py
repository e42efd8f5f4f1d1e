"""The dashboard in a real browser: Debian's Chromium driven by Playwright against ``uvicorn`` on loopback (the
portal's set-up, tests/test_web_browser.py).  A leader, a district official and staff sign in and see what they
should; screenshots of the overview and of a district page (and the explorer) are kept in var/test-artefacts/.
Skipped, with the reason, when Chromium or Playwright is missing."""

from __future__ import annotations

import pytest

from monitor.store import Store
from monitor.web import create_app
from tests.browser_helpers import ARTEFACTS, chromium, live_server, require_browser
from tests.dash_helpers import PW, accounts, seed
from tests.web_helpers import settings_for

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path):
    require_browser()
    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite'}")
    seed(store)
    accounts(store)
    with live_server(create_app(settings_for(tmp_path), store)) as base:
        yield base
    store.close()


@pytest.fixture
def browser():
    with chromium() as b:
        yield b


def _login(browser, base: str, username: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PW)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def _images_loaded(page) -> int:
    """How many of the page's <img> charts decoded (naturalWidth > 0)."""
    return page.evaluate("Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0).length")


def _shot(page, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def test_leader_district_official_and_staff_in_chromium(server, browser):
    base = server
    # the leader: the city overview with its charts, every district, and no staff-only buttons
    page = _login(browser, base, "leader1")
    assert page.url.endswith("/dash")
    assert "全市概览" in page.inner_text("#page-title")
    assert "制造业PMI" in page.inner_text("#headline")
    assert _images_loaded(page) == 4  # headline, fan, electricity, districts: all drawn
    assert page.locator("#district-links a").count() == 11
    _shot(page, "dashboard-overview-1280")
    page.goto(f"{base}/dash?lang=en")
    assert "City overview" in page.inner_text("#page-title")
    page.goto(f"{base}/dash?lang=zh")
    page.goto(f"{base}/dash/pubs")
    assert page.locator("button[id^=finalise]").count() == 0
    page.goto(f"{base}/dash/series?q=新订单")
    page.click("#hits a >> nth=0")
    page.wait_for_load_state("networkidle")
    assert _images_loaded(page) == 1 and page.locator("#values tr").count() > 3
    _shot(page, "dashboard-explorer-1280")
    page.close()

    # the district official: sent to their own district, the city totals beside it; the neighbour is not found
    page = _login(browser, base, "liwan1")
    assert page.url.endswith("/dash/d/440103")
    assert "荔湾区" in page.inner_text("#page-title")
    assert page.locator("#city-totals").count() == 1 and page.locator("#district-links").count() == 0
    assert _images_loaded(page) == 2  # headline and electricity (no district forecast is stored)
    assert "91440103" in page.inner_text("#dispatch")
    _shot(page, "dashboard-district-440103-1280")
    response = page.goto(f"{base}/dash/d/440104")
    assert response is not None and response.status == 404
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{base}/dash/d/440103")
    _shot(page, "dashboard-district-440103-375")
    page.close()

    # staff: acknowledge a warning (a form without script) and see it recorded
    page = _login(browser, base, "staff1")
    page.goto(f"{base}/dash/warnings")
    page.click("#ack-1")
    page.wait_for_load_state("networkidle")
    assert "staff1" in page.inner_text("#event-1")
    _shot(page, "dashboard-warnings-1280")
    page.close()
