"""The Checks tab and the list's badge for failing mail: the page as sent, and in Chromium."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.apiserver import make_message, until
from tests.checkmail import clean_message, crlf
from tests.uikit import ARTIFACTS, text_message

FAILING = ["format.message-id", "format.date", "content.placeholders"]


def _welcome():
    return text_message("Welcome {{ name }}", "Hello None, welcome aboard.")


def test_checks_tab_lists_failing_checks_first_with_their_rule(ui_server, page) -> None:
    message_id = ui_server.send(_welcome())
    page.goto(f"{ui_server.url}/messages/{message_id}")
    tab = page.get_by_role("tab", name="Checks")
    expect(tab).to_contain_text("3")
    expect(tab.locator(".dot.fail")).to_have_count(1)
    tab.click()
    panel = page.locator("#panel-checks")
    expect(panel).to_be_visible()
    expect(panel.locator(".checks-summary")).to_contain_text("3 failed")
    rows = panel.locator("tr.check")
    statuses = rows.evaluate_all("rows => rows.map(r => r.dataset.status)")
    assert statuses == sorted(statuses, key=["fail", "warn", "info", "pass"].index)
    expect(panel.locator("tr.check.fail")).to_have_count(3)
    ids = panel.locator("tr.check.fail").evaluate_all("rows => rows.map(r => r.dataset.check)")
    assert ids == FAILING
    placeholders = panel.locator('tr[data-check="content.placeholders"]')
    expect(placeholders).to_contain_text("'{{ name }}' in the subject")
    expect(placeholders).to_contain_text("'None' in the text body")
    expect(placeholders).to_contain_text("the recipient sees the placeholder itself")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "checks.png"), full_page=True)


def test_checks_tab_of_well_made_mail_shows_no_failure(ui_server, page) -> None:
    message_id = ui_server.send(crlf(clean_message()), sender="hello@shop.example.com")
    page.goto(f"{ui_server.url}/messages/{message_id}#checks")
    panel = page.locator("#panel-checks")
    expect(panel).to_be_visible()
    expect(panel.locator(".checks-summary")).to_contain_text("0 failed")
    expect(panel.locator("tr.check.fail")).to_have_count(0)
    expect(page.get_by_role("tab", name="Checks").locator(".dot.fail")).to_have_count(0)


def test_inbox_badge_marks_only_mail_with_failures(ui_server, page) -> None:
    good = ui_server.send(crlf(clean_message()), sender="hello@shop.example.com")
    bad = ui_server.send(_welcome())
    page.goto(ui_server.url + "/")
    expect(page.locator(f'tr.msg[data-id="{bad}"] .check-fails')).to_have_text("3 failing")
    expect(page.locator(f'tr.msg[data-id="{good}"] .check-fails')).to_be_hidden()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "inbox-checks.png"))


def test_mail_arriving_live_gets_its_badge(ui_server, page) -> None:
    page.goto(ui_server.url + "/")
    expect(page.locator("body")).to_have_attribute("data-live", "open")
    bad = ui_server.send(_welcome())
    expect(page.locator(f'tr.msg[data-id="{bad}"] .check-fails')).to_have_text("3 failing")


def test_listing_the_inbox_again_computes_no_report_again(ui_server, page) -> None:
    for n in range(3):
        ui_server.send(text_message(f"Message {n}"))
    page.goto(ui_server.url + "/")
    expect(page.locator("tr.msg .check-fails:visible")).to_have_count(3)
    computed = ui_server.sink.reports.computed
    page.reload()
    expect(page.locator("tr.msg .check-fails:visible")).to_have_count(3)
    assert ui_server.sink.reports.computed == computed


def test_inbox_page_of_new_mail_is_sent_before_any_report_is_computed(served) -> None:
    for n in range(3):
        served.send(make_message(f"Welcome {{{{ name }}}} {n}"))
    computed = served.sink.reports.computed
    page = served.get("/").body.decode()
    assert served.sink.reports.computed == computed
    assert page.count("data-pending") == 3


def test_inbox_page_shows_the_badge_of_mail_checked_before(served) -> None:
    served.send(make_message("Welcome {{ name }}"))  # no Date, no Message-ID, a placeholder
    [summary] = served.get("/api/v1/messages").json()["messages"]

    def page_once_checked() -> str | None:
        # A report is kept once its SMTP session has ended (its counts are final then).
        assert served.get(f"/api/v1/messages/{summary['id']}/checks").status == 200
        page = served.get("/").body.decode()
        return None if "data-pending" in page else page

    assert ">3 failing</span>" in until(page_once_checked)


def test_pending_badges_of_a_page_of_new_mail_all_fill_in(ui_server, page) -> None:
    ids = [ui_server.send(_welcome()) for _ in range(12)]
    page.goto(ui_server.url + "/")
    for message_id in ids:
        badge = page.locator(f'tr.msg[data-id="{message_id}"] .check-fails')
        expect(badge).to_have_text("3 failing")
        expect(badge).not_to_have_attribute("data-pending", "")
