"""The status page (issue 10), loaded in headless Chromium (Debian's, driven by Playwright
with no browser download of its own) after real traffic: it shows what a person needs (queue
numbers, an urgent hearing, a bounce reason), traces a message from its search box, fetches
nothing from anywhere else, fits a phone, and holds no defendant name or date of birth."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import FRONT_DOOR, ROOT, SENDER, STANDARD_BODY, build_message
from gateway_helpers import RunningGateway, free_port, gateway_settings, wait_for
from mailrouter.policy.urgency import is_working_day

CHROMIUM = shutil.which("chromium")
ARTEFACTS = Path(os.environ.get("MAILROUTER_TEST_ARTEFACTS", ROOT / "tests" / "artefacts"))

pytestmark = [
    pytest.mark.storage,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium (make test installs it)"),
]


def _next_working_day() -> dt.date:
    day = dt.datetime.now(ZoneInfo("Europe/London")).date()
    while True:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            return day


def test_the_status_page_as_a_person_sees_it(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    dead = free_port()  # the teams' server is down: mail waits in the queue
    settings = gateway_settings(
        tmp_path / "var",
        delivery={"transport": "smtp", "smtp": {"host": "127.0.0.1", "port": dead,
                                                "starttls": "off"}},
    )  # fmt: skip
    soon = _next_working_day()
    urgent = STANDARD_BODY.replace("15/12/2026", f"{soon:%d/%m/%Y}")
    with RunningGateway(settings) as gateway:
        with gateway.smtp() as client:
            client.sendmail(SENDER, [FRONT_DOOR], build_message(body=urgent))
            client.sendmail(SENDER, [FRONT_DOOR], build_message(
                "URN 20AB1234522 - Wolverhampton MC - R v JONES",
                STANDARD_BODY.replace("John SMITH", "Ada JONES").replace("01/02/1990", "03/04/1985")
                .replace("15/12/2026", f"{soon + dt.timedelta(days=1):%d/%m/%Y}")))  # fmt: skip
            client.mail(SENDER)
            client.rcpt(FRONT_DOOR)
            assert client.data(build_message("URN 20AB1234523 - R v BROWN"))[0] == 550
        wait_for(lambda: gateway.journal("totals", 0)["queue"])
        url = f"http://127.0.0.1:{gateway.gateway.http.port}/"  # type: ignore[union-attr]
        requested: list[str] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                page = browser.new_page(viewport={"width": 390, "height": 844})
                page.on("request", lambda request: requested.append(request.url))
                page.goto(url)
                ARTEFACTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(ARTEFACTS / "status-page.png"), full_page=True)
                html = page.content()
                text = page.inner_text("body")
                fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
                refresh = page.get_attribute("meta[http-equiv=refresh]", "content")
                # The search box traces a message.
                page.fill("input[name=q]", "20ab 12345 22")
                page.click("button")
                page.wait_for_load_state()
                traced = page.inner_text("body")
            finally:
                browser.close()
    magistrates = next(line for line in text.splitlines() if line.startswith("magistrates"))
    assert magistrates.split("\t")[1] == "2"  # waiting: both accepted messages
    assert f"{soon:%a %d %b} · URGENT\t20AB1234521" in text
    assert "missing: court" in text and "bounce" in text
    assert "ready" in text and refresh == "60"
    assert fits, "the page is wider than a phone"
    assert all(r.startswith(url) for r in requested), requested
    for secret in ("John", "SMITH", "Ada", "JONES", "BROWN", "01/02/1990", "1990-02-01",
                   "03/04/1985", "1985-04-03"):  # fmt: skip
        assert secret not in html, secret
    assert "Trace: 20ab 12345 22" in traced and "20AB1234522" in traced
    assert (ARTEFACTS / "status-page.png").stat().st_size > 1000
