"""The console in a real browser: headless Chromium (the Debian package) driven by selenium,
against `cob api` and `cob worker` processes on a dev server with the payer simulator
(conftest.running_console). People sign in with a token, work a task, read an encounter and the
dashboard; each page is saved as a PNG (the folder is printed, and copied to
test-output/screenshots/). Without chromium the browser tests skip, unless COB_REQUIRE_BROWSER
is set (CI sets it), when they fail.

Also here, over plain HTTP: the pages send people to /login without a valid cookie, the cookie
is HttpOnly and SameSite=Strict, and a change signed in by the cookie alone is refused."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from ledger.db import make_engine
from ledger.queries import encounter_timeline
from tests.console.conftest import EXAMPLES, ROOT, Console, wait_until
from workers.devserver import free_port

SCREENSHOTS = ROOT / "test-output" / "screenshots"
WIDTH, HEIGHT = 1366, 900
# the examples' patients: never in a URL the console makes, nor in its log
PATIENTS = ["Moreno", "Feldman", "Shah", "Alvarez", "Ortega"]


@dataclass
class Scene:
    console: Console
    closed: str  # an encounter the payers paid: MCARE, then MGAP01
    denied: str  # waits for a correction: a correction_needed task
    held: str  # no rule orders its payers: an order_review task
    to_correct: str  # example 07 again, for a correction sent from its page
    appealed: str  # Medicare denied its one line CO-50: the redetermination's window is open

    def task(self, encounter: str, kind: str) -> dict[str, Any]:
        found = self.console.call("GET", f"/api/tasks?all=true&encounter={encounter}", "carol")
        (task,) = [t for t in found.json() if t["kind"] == kind]
        return task


def medicare_denial(encounter_id: str) -> dict[str, Any]:
    """Example 03's patient, Medicare only, an arthrocentesis (20610, 150.00) for a sore throat
    two days ago: the simulator's MCARE covers 20610 for M and S diagnoses only, so it denies
    the line CO-50, which goes to appeal (a redetermination, 42 CFR 405.942)."""
    data = json.loads((EXAMPLES / "03-medicare-medigap.json").read_text())
    return {**data, "encounter_id": encounter_id,
            "service_date": (datetime.now(UTC).date() - timedelta(days=2)).isoformat(),
            "coverages": [c for c in data["coverages"] if c["payer_id"] == "MCARE"],
            "diagnoses": ["J02.9"],
            "lines": [{"line_number": 1, "procedure_code": "20610", "charge": "150.00",
                       "diagnosis_pointers": [1]}]}  # fmt: skip


@pytest.fixture(scope="module")
def scene(console_stack: Console) -> Scene:
    console = console_stack
    started = {name: console.start_example(name, f"E{name[:2]}-ui") for name in
               ["01-commercial", "03-medicare-medigap", "07-denied-then-corrected",
                "09-three-payers", "10-order-review"]}  # fmt: skip
    console.start_example("07-denied-then-corrected", "E07-fix-ui")
    console.start(medicare_denial("E50-ui"))
    # EMPL03 holds its adjudication: E04-ui's claim is accepted and open, so A/R has a row
    httpx.post(f"{console.payer_url}/admin/hold", json={"payer_id": "EMPL03"}).raise_for_status()
    console.start_example("04-working-aged", "E04-ui")
    scene = Scene(console, "E03-ui", "E07-ui", "E10-ui", "E07-fix-ui", "E50-ui")

    def stage(encounter: str) -> str | None:
        status = console.call("GET", f"/api/encounters/{encounter}", "carol").json().get("status")
        return status and status["stage"]

    for name in ("01-commercial", "03-medicare-medigap", "09-three-payers"):
        encounter = started[name].removeprefix("encounter-")
        wait_until(lambda e=encounter: stage(e) == "closed", 120, f"{encounter} to close")
    wait_until(lambda: stage("E50-ui") == "appeal", 120, "E50-ui's appeal")
    wait_until(lambda: console.call("GET", "/api/reports/ar-aging", "carol").json(), 60,
               "E04-ui's claim open at EMPL03")  # fmt: skip
    for encounter, kind in (("E07-ui", "correction_needed"), ("E10-ui", "order_review"),
                            ("E07-fix-ui", "correction_needed")):  # fmt: skip
        wait_until(lambda e=encounter, k=kind: [t for t in console.call(
            "GET", f"/api/tasks?encounter={e}", "carol").json() if t["kind"] == k],
            60, f"the {kind} task of {encounter}")  # fmt: skip
    return scene


# --- the pages and the cookie, over HTTP ---


def test_pages_send_people_without_a_valid_cookie_to_login(scene: Scene):
    url = scene.console.url
    for path, back in [("/", "%2F"), ("/dashboard", "%2Fdashboard"),
                       ("/encounters/E03-ui", "%2Fencounters%2FE03-ui")]:  # fmt: skip
        for cookies in ({}, {"cob_token": "not-a-token"}):
            answer = httpx.get(url + path, cookies=cookies)
            assert answer.status_code == 303, (path, cookies)
            assert answer.headers["location"] == f"/login?next={back}"
    form = httpx.get(url + "/login?next=/dashboard")
    assert form.status_code == 200 and 'name="token"' in form.text
    assert 'value="/dashboard"' in form.text
    assert form.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in form.headers["content-security-policy"]
    # /login never sends anyone to another site
    elsewhere = httpx.get(url + "/login?next=//evil.test/x")
    assert 'value="/"' in elsewhere.text
    assert httpx.get(url + "/static/console.js").status_code == 200
    assert httpx.get(url + "/static/vendor/chart.umd.min.js").text.startswith(
        "/*!\n * Chart.js v4.6.1"
    )


def test_sign_in_sets_a_strict_httponly_cookie_and_sign_out_clears_it(scene: Scene):
    url, token = scene.console.url, scene.console.tokens["bea"]
    wrong = httpx.post(url + "/login", data={"token": "nope", "next": "/"})
    assert wrong.status_code == 401 and "not an active user" in wrong.text
    assert "set-cookie" not in wrong.headers
    signed = httpx.post(url + "/login", data={"token": token, "next": "/encounters/E03-ui"})
    assert signed.status_code == 303 and signed.headers["location"] == "/encounters/E03-ui"
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith(f"cob_token={token};")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert httpx.get(url + "/", cookies={"cob_token": token}).status_code == 200
    # another site's form cannot sign the browser in as someone else
    forged = httpx.post(
        url + "/login", data={"token": token}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert forged.status_code == 403 and "set-cookie" not in forged.headers
    out = httpx.post(url + "/logout", cookies={"cob_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    cleared = out.headers["set-cookie"]
    assert cleared.startswith('cob_token="";') and "Max-Age=0" in cleared


def test_a_change_signed_in_by_the_cookie_alone_is_refused(scene: Scene):
    console = scene.console
    key = scene.task(scene.held, "order_review")["key"]
    cookie = {"cob_token": console.tokens["bea"]}
    forged = httpx.post(f"{console.url}/api/tasks/{key}/claim", cookies=cookie)
    assert forged.status_code == 403
    assert forged.json()["detail"].startswith(
        "X-Requested-With: a request signed in by the console's cookie"
    )
    assert scene.task(scene.held, "order_review")["assignee"] is None
    # reading needs no header; the console's own calls send it; Bearer calls need none
    assert httpx.get(f"{console.url}/api/tasks", cookies=cookie).status_code == 200
    header = {"X-Requested-With": "cob-console"}
    claimed = httpx.post(f"{console.url}/api/tasks/{key}/claim", cookies=cookie, headers=header)
    assert claimed.status_code == 200 and claimed.json()["task"]["assignee"] == "bea"
    released = console.call("POST", f"/api/tasks/{key}/release", "bea")
    assert released.status_code == 200 and released.json()["task"]["assignee"] is None


# --- in the browser ---


def find_browser() -> tuple[list[str], str | None, str | None]:
    """What is missing of chromium, chromedriver and selenium, and the two programs' paths."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    missing = [
        name for name, path in (("chromium", chromium), ("chromedriver", driver)) if not path
    ]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium")
    return missing, chromium, driver


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    missing, chromium, chromedriver = find_browser()
    if missing:
        why = (f"{', '.join(missing)} not found (apt-get install chromium chromium-driver; "
               "pip install -e '.[dev]' for selenium)")  # fmt: skip
        if os.environ.get("COB_REQUIRE_BROWSER"):
            pytest.fail(f"COB_REQUIRE_BROWSER is set and {why}")
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={WIDTH},{HEIGHT}", "--lang=en-US", "--hide-scrollbars"):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    log = tmp_path_factory.mktemp("chromedriver") / "chromedriver.log"
    driver = webdriver.Chrome(options=options, service=Service(chromedriver, log_output=str(log)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def shots(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("screenshots")
    yield folder
    saved = sorted(folder.glob("*.png"))
    if saved:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for png in saved:
            shutil.copy2(png, SCREENSHOTS / png.name)
        names = ", ".join(p.name for p in saved)
        capture = request.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled():  # printed whether the tests pass or not
            print(f"\nscreenshots in {folder}, copied to {SCREENSHOTS}: {names}")


def screenshot(driver: Any, folder: Path, name: str) -> Path:
    """The whole page as a PNG, from its top (the window made as tall as the page, its own
    frame included, then put back)."""
    frame = driver.execute_script("return window.outerHeight - window.innerHeight")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(WIDTH, max(HEIGHT, min(height + frame, 8000)))
    driver.execute_script("window.scrollTo(0, 0)")
    path = folder / f"{name}.png"
    assert driver.save_screenshot(str(path))
    driver.set_window_size(WIDTH, HEIGHT)
    return path


def sign_in(driver: Any, console: Console, user: str) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(f"{console.url}/login")
    field = driver.find_element(By.ID, "token")
    field.send_keys(console.tokens[user])
    field.submit()
    wait_until(lambda: driver.current_url == f"{console.url}/", 10, f"{user} signed in")
    # the token went in a POST body and a cookie no script can read
    assert console.tokens[user] not in driver.current_url
    assert driver.execute_script("return document.cookie") == ""


def problems(driver: Any) -> list[str]:
    """The browser console's errors since last asked (a script error, a CSP refusal), but
    the refusals the test asked for (Chromium logs each 409 as a resource failing to load)."""
    asked = "the server responded with a status of 409"
    return [e["message"] for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and asked not in e["message"]]  # fmt: skip


def text_of(driver: Any, css: str) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, css).text


def steady(read: Any) -> Any:
    """`read()`, again if the page redrew what it held meanwhile (the worklist polls)."""
    from selenium.common.exceptions import StaleElementReferenceException

    for _ in range(20):
        try:
            return read()
        except StaleElementReferenceException:
            time.sleep(0.1)
    raise AssertionError("the page kept changing under the test")


def task_row(driver: Any, key: str) -> Any:
    from selenium.webdriver.common.by import By

    rows = driver.find_elements(By.CSS_SELECTOR, f'#tasks tbody tr[data-key="{key}"]')
    return rows[0] if rows else None


# the worklist's columns: due, encounter, payer, kind, at stake, what to do, held by, actions
HELD_BY = 6


def task_cells(driver: Any, key: str) -> list[str] | None:
    """The task's row on the worklist, cell by cell; None when it is not listed."""
    from selenium.webdriver.common.by import By

    def read() -> list[str] | None:
        row = task_row(driver, key)
        return row and [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]

    return steady(read)


def task_buttons(driver: Any, key: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return steady(
        lambda: [b.text for b in task_row(driver, key).find_elements(By.TAG_NAME, "button")]
    )


def press(driver: Any, key: str, label: str) -> None:
    from selenium.webdriver.common.by import By

    steady(
        lambda: task_row(driver, key).find_element(By.XPATH, f".//button[text()='{label}']").click()
    )


def test_a_biller_claims_releases_snoozes_and_resolves_a_task_on_the_worklist(
    scene, browser, shots
):
    from selenium.webdriver.common.by import By

    console = scene.console
    task = scene.task(scene.denied, "correction_needed")
    key = task["key"]
    sign_in(browser, console, "bea")
    cells = wait_until(lambda: task_cells(browser, key), 10, "the task on the worklist")
    assert cells[:5] == [task["due"], scene.denied, "BLUE02", "correction needed", "310.00"]
    assert cells[5].startswith(f"claim {scene.denied}-1-1 denied, 310.00 at stake: CARC 16")
    link = steady(lambda: task_row(browser, key).find_element(By.LINK_TEXT, scene.denied))
    assert link.get_attribute("href") == f"{console.url}/encounters/{scene.denied}"

    # ana holds it: bea's Claim is refused, saying who has it
    assert console.call("POST", f"/api/tasks/{key}/claim", "ana").status_code == 200
    press(browser, key, "Claim")
    wait_until(lambda: "is claimed by ana" in text_of(browser, "#message"), 10, "the 409")
    assert text_of(browser, "#message") == f"task {key} is claimed by ana"
    assert task_cells(browser, key)[HELD_BY] == "ana"

    # ana lets go; the page sees it on its own (it polls), and bea claims it
    assert console.call("POST", f"/api/tasks/{key}/release", "ana").status_code == 200
    wait_until(
        lambda: task_cells(browser, key)[HELD_BY] == "—", 15, "the worklist to refresh by itself"
    )
    press(browser, key, "Claim")
    wait_until(lambda: task_cells(browser, key)[HELD_BY] == "bea (you)", 10, "bea to hold the task")
    assert task_buttons(browser, key) == ["Release", "Resolve", "Snooze"]
    press(browser, key, "Release")
    wait_until(lambda: task_cells(browser, key)[HELD_BY] == "—", 10, "the task released")
    assert task_buttons(browser, key) == ["Claim", "Snooze"]
    press(browser, key, "Claim")
    wait_until(lambda: task_cells(browser, key)[HELD_BY] == "bea (you)", 10, "bea to hold it again")

    # snoozed till tomorrow, out of sight; "Show snoozed tasks" brings it back
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    press(browser, key, "Snooze")
    field = browser.find_element(By.ID, "ask-input")
    assert field.get_attribute("type") == "date" and field.get_attribute("max") == task["due"]
    browser.execute_script("arguments[0].value = arguments[1]", field, tomorrow)
    browser.find_element(By.ID, "ask-ok").click()
    wait_until(lambda: task_row(browser, key) is None, 10, "the snoozed task out of sight")
    assert text_of(browser, "#message") == f"Snoozed the task for {scene.denied} until {tomorrow}."
    browser.find_element(By.ID, "show-snoozed").click()
    cells = wait_until(lambda: task_cells(browser, key), 10, "the snoozed task shown")
    assert cells[0] == f"{task['due']}\nsnoozed until {tomorrow}"
    screenshot(browser, shots, "worklist")

    press(browser, key, "Resolve")
    dialog = browser.find_element(By.ID, "ask")
    assert dialog.is_displayed() and "What was done" in dialog.text
    browser.find_element(By.ID, "ask-input").send_keys("NPI 1497758544 added; resubmission sent")
    browser.find_element(By.ID, "ask-ok").click()
    wait_until(lambda: task_row(browser, key) is None, 10, "the resolved task to leave the list")
    assert text_of(browser, "#message") == f"Resolved the task for {scene.denied}."
    closed = scene.task(scene.denied, "correction_needed")
    assert closed["status"] == "closed" and closed["resolved_by"] == "bea"
    assert closed["resolution_note"] == "NPI 1497758544 added; resubmission sent"
    events = encounter_timeline(make_engine(console.ledger_url), f"encounter-{scene.denied}")
    assert [e["detail"]["by"] for e in events if e["kind"] == "task_resolved"] == ["bea"]
    assert problems(browser) == []


def test_an_auditor_sees_the_worklist_without_buttons(scene, browser):

    key = scene.task(scene.held, "order_review")["key"]
    sign_in(browser, scene.console, "carol")
    wait_until(lambda: task_cells(browser, key), 10, "the task on the worklist")
    assert task_buttons(browser, key) == []
    assert text_of(browser, "#who") == "carol · auditor"
    assert problems(browser) == []


def test_a_supervisor_reassigns_a_task_to_a_biller_on_the_worklist(scene, browser, shots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    console = scene.console
    key = scene.task(scene.to_correct, "correction_needed")["key"]
    sign_in(browser, console, "sue")
    cells = wait_until(lambda: task_cells(browser, key), 10, "the task on the worklist")
    assert cells[3:5] == ["correction needed", "310.00"] and cells[HELD_BY] == "—"
    assert task_buttons(browser, key) == ["Claim", "Resolve", "Snooze", "Reassign"]
    press(browser, key, "Reassign")
    dialog = browser.find_element(By.ID, "ask")
    wait_until(dialog.is_displayed, 10, "the dialog, once the team is fetched")
    assert "Give it to" in dialog.text
    # the active billers and supervisors; never the auditor, who cannot take a task
    choice = Select(browser.find_element(By.ID, "ask-input"))
    assert [o.text for o in choice.options] == [
        "Choose a person", "ana · biller", "bea · biller", "sue · supervisor (you)"]  # fmt: skip
    choice.select_by_value("bea")
    screenshot(browser, shots, "worklist-reassign")
    browser.find_element(By.ID, "ask-ok").click()
    wait_until(lambda: task_cells(browser, key)[HELD_BY] == "bea", 10, "bea to hold the task")
    assert text_of(browser, "#message") == f"Gave the task for {scene.to_correct} to bea."
    assert scene.task(scene.to_correct, "correction_needed")["assignee"] == "bea"
    events = encounter_timeline(make_engine(console.ledger_url), f"encounter-{scene.to_correct}")
    (reassigned,) = [e["detail"] for e in events if e["kind"] == "task_reassigned"]
    assert (reassigned["by"], reassigned["from"], reassigned["to"]) == ("sue", None, "bea")
    assert problems(browser) == []


def test_the_encounter_page_shows_order_money_timeline_documents_and_the_workflow(
    scene, browser, shots
):
    from selenium.webdriver.common.by import By

    console = scene.console
    sign_in(browser, console, "bea")
    browser.find_element(By.LINK_TEXT, "Dashboard")  # the nav is there
    browser.get(f"{console.url}/encounters/{scene.closed}")
    wait_until(lambda: "Patient balance" in text_of(browser, "#money"), 10, "the money per line")
    answer = console.call("GET", f"/api/encounters/{scene.closed}", "bea").json()
    assert text_of(browser, "#stage") == "closed"
    assert [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#order ol li")] == [
        "MCARE · medicare", "MGAP01 · medicare_supplement"]  # fmt: skip
    assert "medigap after medicare" in text_of(browser, "#order table")
    money = browser.find_element(By.CSS_SELECTOR, "#money table")
    heads = [th.text for th in money.find_elements(By.CSS_SELECTOR, "thead th")]
    assert heads[:5] == ["line", "procedure", "charge", "paid by MCARE", "paid by MGAP01"]
    lines = answer["ledger"]["balance"]["lines"]
    rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in money.find_elements(By.CSS_SELECTOR, "tbody tr")]  # fmt: skip
    assert rows == [
        [str(line["line_number"]), line["procedure_code"], line["charge"],
         line["paid_by_payer"]["MCARE"], line["paid_by_payer"]["MGAP01"], line["adjustments"],
         line["patient_responsibility"], "✓ balances"]
        for line in lines
    ]  # fmt: skip
    balance = answer["ledger"]["balance"]["balance"]
    assert text_of(browser, "#money p.balance") == f"Patient balance: {balance}"
    charges = [line["charge"] for line in lines]
    total = sum(int(c.replace(".", "")) for c in charges)
    assert (
        money.find_element(By.CSS_SELECTOR, "tfoot td.num").text
        == f"{total // 100}.{total % 100:02d}"
    )
    claims = browser.find_elements(By.CSS_SELECTOR, "#claims article.claim h3")
    assert [h.text for h in claims] == [
        f"Claim {scene.closed}-1-1 to MCARE", f"Claim {scene.closed}-2-1 to MGAP01"]  # fmt: skip
    kinds = [
        td.text for td in browser.find_elements(By.CSS_SELECTOR, "#timeline tbody td:nth-child(2)")
    ]
    # who submitted it is recorded once the start succeeded (a refused start records
    # nothing), so the workflow's own first step may come before it
    assert set(kinds[:2]) == {"encounter submitted", "encounter started"}, kinds
    assert "encounter closed" in kinds
    transactions = {
        td.text for td in browser.find_elements(By.CSS_SELECTOR, "#documents tbody td:nth-child(2)")
    }
    assert {"270", "271", "837", "999", "277CA", "835"} <= transactions
    link = browser.find_element(By.ID, "workflow-link")
    assert link.get_attribute("href") == (
        f"{console.temporal_ui}/namespaces/default/workflows/encounter-{scene.closed}"
    )
    screenshot(browser, shots, "encounter")
    # the URL names the encounter, never its patient
    assert not any(name in unquote(browser.current_url) for name in PATIENTS)
    assert problems(browser) == []


def action_form(driver: Any, name: str) -> Any:
    """The encounter page's form for `name` (correction, filing, decision, order), once drawn."""
    from selenium.webdriver.common.by import By

    return wait_until(
        lambda: driver.find_elements(By.ID, f"action-{name}"), 15, f"the {name} form"
    )[0]


def fill(driver: Any, field_id: str, text: str) -> None:
    from selenium.webdriver.common.by import By

    field = driver.find_element(By.ID, field_id)
    field.clear()
    field.send_keys(text)


def label_of(driver: Any, field_id: str) -> str:
    return text_of(driver, f'label[for="{field_id}"]')


def test_a_biller_corrects_a_denied_claim_from_the_encounter_page(scene, browser, shots):
    from selenium.webdriver.common.by import By

    console, encounter = scene.console, scene.to_correct
    sign_in(browser, console, "bea")
    browser.get(f"{console.url}/encounters/{encounter}")
    form = action_form(browser, "correction")
    assert text_of(browser, "#h-action-correction") == f"Send a correction to claim {encounter}-1-1"
    assert "RARC N290" in form.find_element(By.CSS_SELECTOR, "p.intro").text
    assert [label_of(browser, f) for f in ("correction-npi", "correction-diagnoses",
                                           "correction-line-1", "correction-line-2",
                                           "correction-note")] == [
        "Rendering provider NPI", "Diagnoses", "Line 1 (99203)", "Line 2 (71046)",
        "What was fixed"]  # fmt: skip

    # a fix that does not answer N290: the claim's own check says why, the form stays as typed
    fill(browser, "correction-diagnoses", "J18.9")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_until(lambda: "N290" in text_of(browser, "#action-message"), 15, "the refusal")
    assert text_of(browser, "#action-message") == (
        f"correction not accepted by claim encounter-{encounter}/claim-1-BLUE02: "
        "remark N290 requires rendering_provider_npi in the correction"
    )
    assert "error" in browser.find_element(By.ID, "action-message").get_attribute("class")
    assert browser.find_element(By.ID, "correction-diagnoses").get_attribute("value") == "J18.9"

    # the fix of examples/07-denied-then-corrected.correction.json
    fill(browser, "correction-diagnoses", "")
    fill(browser, "correction-npi", "1427051234")
    fill(browser, "correction-note", "added the rendering provider's NPI (RARC N290)")
    screenshot(browser, shots, "encounter-correction")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_until(lambda: "accepted" in text_of(browser, "#action-message"), 15, "the correction")
    assert text_of(browser, "#action-message") == (
        "Correction sent: correction accepted; resubmitting to BLUE02."
    )
    assert browser.find_elements(By.CSS_SELECTOR, "#actions form") == []

    # the replacement claim is paid and the encounter closes; the page sees it as it polls
    wait_until(lambda: text_of(browser, "#stage") == "closed", 60, "the encounter to close")
    claims = console.call("GET", f"/api/encounters/{encounter}", "bea").json()["ledger"]["claims"]
    (paid,) = [c for c in claims if c["claim_status"] == "1"]
    assert paid["frequency"] == "7" and Decimal(paid["total_paid"]) > 0
    articles = browser.find_elements(By.CSS_SELECTOR, "#claims article.claim")
    heading = f"Claim {paid['claim_control_number']} to BLUE02"
    (shown,) = [a.text for a in articles if a.find_element(By.TAG_NAME, "h3").text == heading]
    assert "7 (replacement)" in shown and "1 (processed as primary)" in shown
    assert f"paid\n{paid['total_paid']}" in shown
    timeline = browser.find_elements(By.CSS_SELECTOR, "#timeline tbody tr")
    rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")[:4]] for tr in timeline]
    (sent,) = [row for row in rows if row[1] == "correction sent"]
    assert sent[2] == "correction sent by bea: correction accepted; resubmitting to BLUE02"
    assert sent[3] == "bea"
    # the claim's task closed with the correction; nothing is left to do on the page
    assert scene.task(encounter, "correction_needed")["status"] == "closed"
    assert browser.find_element(By.ID, "actions-section").is_displayed()
    screenshot(browser, shots, "encounter-corrected")
    assert problems(browser) == []


def test_a_biller_files_an_appeal_and_records_the_reviewers_decision(scene, browser, shots):
    from selenium.webdriver.common.by import By

    console, encounter = scene.console, scene.appealed
    sign_in(browser, console, "ana")
    browser.get(f"{console.url}/encounters/{encounter}")
    form = action_form(browser, "filing")
    assert browser.find_element(By.ID, "filing-level").get_attribute("value") == "1"
    assert "redetermination: 120 days" in form.find_element(By.CSS_SELECTOR, "p.intro").text
    fill(browser, "filing-note", "CMS-20027 with the office notes")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    today = datetime.now(UTC).date().isoformat()
    wait_until(lambda: "Filing recorded" in text_of(browser, "#action-message"), 15, "the filing")
    assert text_of(browser, "#action-message") == (
        f"Filing recorded: level 1 appeal of claim {encounter}-1-1 filed on {today}."
    )

    form = action_form(browser, "decision")
    assert browser.find_element(By.ID, "decision-level").get_attribute("value") == "1"
    browser.find_element(By.ID, "decision-upheld").click()
    fill(browser, "decision-note", "MAC letter 2026-0042")
    screenshot(browser, shots, "encounter-appeal")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_until(lambda: "Decision recorded" in text_of(browser, "#action-message"), 15, "decision")
    assert text_of(browser, "#action-message") == (
        "Decision recorded: level 1 decision recorded: upheld."
    )
    # upheld: the next level (reconsideration) opens, and its filing form with it
    action_form(browser, "filing")
    wait_until(
        lambda: browser.find_element(By.ID, "filing-level").get_attribute("value") == "2",
        15, "level 2's filing form",
    )  # fmt: skip
    events = encounter_timeline(make_engine(console.ledger_url), f"encounter-{encounter}")
    assert [(e["kind"], e["detail"]["by"]) for e in events if e["kind"].startswith("appeal_")
            and e["kind"].endswith("_sent")] == [("appeal_filing_sent", "ana"),
                                                 ("appeal_decision_sent", "ana")]  # fmt: skip
    assert problems(browser) == []


def test_an_auditor_sees_no_actions_where_a_biller_sees_the_order_form(scene, browser, shots):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    console = scene.console
    sign_in(browser, console, "carol")
    for encounter, stage in ((scene.held, "held order review"),
                             (scene.denied, "awaiting correction")):  # fmt: skip
        browser.get(f"{console.url}/encounters/{encounter}")
        wait_until(lambda s=stage: text_of(browser, "#stage") == s, 15, f"{encounter}'s page")
        assert not browser.find_element(By.ID, "actions-section").is_displayed()
        assert browser.find_elements(By.CSS_SELECTOR, "#actions form, form.action") == []
    assert problems(browser) == []

    sign_in(browser, console, "bea")
    browser.get(f"{console.url}/encounters/{scene.held}")
    form = action_form(browser, "order")
    assert [label_of(browser, f) for f in ("order-1", "order-2", "order-reason")] == [
        "Pays 1st", "Pays 2nd", "Why this order"]  # fmt: skip
    chosen = [Select(browser.find_element(By.ID, f"order-{i}")) for i in (1, 2)]
    assert [s.first_selected_option.text for s in chosen] == [
        "ACME01 · commercial", "EMPL03 · commercial"]  # fmt: skip
    assert "nothing is billed" in form.find_element(By.CSS_SELECTOR, "p.intro").text
    # the rules name payers only: never a member id
    rules = browser.find_element(By.CSS_SELECTOR, "#order table")
    cells = [td.text for td in rules.find_elements(By.CSS_SELECTOR, "tbody td")]
    assert cells[:3] == ["ACME01", "EMPL03", "naic undetermined manual review"]
    example = json.loads((EXAMPLES / "10-order-review.json").read_text())
    assert not [c["member_id"] for c in example["coverages"] if c["member_id"] in rules.text]
    screenshot(browser, shots, "encounter-order")
    assert problems(browser) == []


def test_the_dashboard_draws_each_report_with_its_table_and_definition(scene, browser, shots):
    from selenium.webdriver.common.by import By

    console = scene.console
    sign_in(browser, console, "carol")
    browser.find_element(By.LINK_TEXT, "Dashboard").click()
    reports = console.call("GET", "/api/reports", "carol").json()
    names = [r["name"] for r in reports]

    def drawn() -> bool:
        return all(browser.execute_script(
            "const c = document.querySelector(arguments[0]); return !!(c && Chart.getChart(c))",
            f"#report-{name} canvas") for name in names)  # fmt: skip

    wait_until(drawn, 15, "every report's chart")
    sections = browser.find_elements(By.CSS_SELECTOR, "section.report")
    assert [s.get_attribute("id") for s in sections] == [f"report-{n}" for n in names]
    for report, section in zip(reports, sections, strict=True):
        heads = [th.text for th in section.find_elements(By.CSS_SELECTOR, "table thead th")]
        assert heads == report["columns"]
        assert (
            section.find_element(By.CSS_SELECTOR, "details.definition summary").text == "Definition"
        )
    # the figures are the API's, a rate shown in percent: BLUE02 denied both of example 07's
    # claims (E07-ui, E07-fix-ui: 310.00 each), CARC 16
    rows = browser.find_elements(By.CSS_SELECTOR, "#report-denials tbody tr")
    cells = [[td.text for td in row.find_elements(By.TAG_NAME, "td")] for row in rows]
    served = console.call("GET", "/api/reports/denials", "carol").json()
    assert cells == [
        [r["payer_id"] or "all payers", r["carc"] or "all", str(r["adjudicated"]),
         str(r["denied"]), f"{Decimal(r['denial_rate']) * 100:.2f}%", r["denied_amount"]]
        for r in served
    ]  # fmt: skip
    (carc_16,) = [row for row in cells if row[:2] == ["BLUE02", "16"]]
    assert carc_16[3] == "2" and carc_16[5] == "620.00"
    labels = browser.execute_script(
        "return Chart.getChart(document.querySelector('#report-denials canvas')).data.labels"
    )
    assert "BLUE02" in labels and None not in labels
    # A/R: E04-ui's claim, accepted by EMPL03 and held there, its whole charge open
    aging = [[td.text for td in row.find_elements(By.TAG_NAME, "td")]
             for row in browser.find_elements(By.CSS_SELECTOR, "#report-ar-aging tbody tr")]  # fmt: skip
    assert aging == [["EMPL03", "1", "215.00", "0.00", "0.00", "0.00", "0.00", "215.00"],
                     ["all payers", "1", "215.00", "0.00", "0.00", "0.00", "0.00", "215.00"]]  # fmt: skip
    screenshot(browser, shots, "dashboard")
    assert problems(browser) == []


class _Forger(BaseHTTPRequestHandler):
    """Another origin's page whose form posts, by itself, to the console's API."""

    target = ""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        page = (f'<form method="post" action="{self.target}"><input name="a" value="1"></form>'
                "<script>document.forms[0].submit()</script>").encode()  # fmt: skip
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_form_from_another_origin_cannot_work_a_task(scene, browser):
    console = scene.console
    key = scene.task(scene.held, "order_review")["key"]
    sign_in(browser, console, "bea")
    port = free_port()
    handler = type("Forger", (_Forger,), {"target": f"{console.url}/api/tasks/{key}/claim"})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        # another port of the same host is the same site: the cookie goes, the header does not
        browser.get(f"http://127.0.0.1:{port}/")
        wait_until(lambda: browser.current_url.startswith(console.url), 10, "the forged post")
        answer = json.loads(browser.find_element("tag name", "body").text)
        assert answer["detail"].startswith("X-Requested-With: a request signed in by the console's")
        # from another site (localhost is not 127.0.0.1) the Strict cookie does not go at all
        browser.get(f"http://localhost:{port}/")
        wait_until(lambda: browser.current_url.startswith(console.url), 10, "the forged post")
        answer = json.loads(browser.find_element("tag name", "body").text)
        assert answer["detail"].startswith("sign in:")
    finally:
        server.shutdown()
        server.server_close()
    assert scene.task(scene.held, "order_review")["assignee"] is None


def test_the_console_logs_no_patient_data(scene):
    log = (scene.console.folder / "api.log").read_text()
    assert not [name for name in PATIENTS if name in log]
