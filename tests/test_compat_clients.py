"""Mailpit's and MailHog's own clients, unchanged, against mailtrap-lite's compatible APIs.

The Node clients (tests/js: mailpit-api 2.1.0, the requests of cypress-mailpit 1.4.0,
mailhog 4.16.0, installed by scripts/test with `npm ci`) and PyPI's mailhog 0.1.1 talk over
real HTTP to a sink this test starts, about mail sent to it over SMTP with smtplib.
"""

from __future__ import annotations

import base64
import json
import shutil
import smtplib
import subprocess
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from mailtrap_lite.config import Address, Config
from mailtrap_lite.testing import Sink
from tests.apiserver import make_message, until
from tests.spamdkit import GTUBE
from tests.uikit import Canary

JS = Path(__file__).resolve().parent / "js"
NODE = shutil.which("node")
if NODE is None or not (JS / "node_modules" / "mailpit-api").is_dir():
    pytest.skip("the Node clients are not installed: run scripts/test (npm ci in tests/js)",
                allow_module_level=True)  # fmt: skip

LOCAL = Address("127.0.0.1", 0)
PDF = b"%PDF-1.4 attachment bytes"


@pytest.fixture
def sink() -> Iterator[Sink]:
    """A sink serving the main API and both compatible listeners, all on 127.0.0.1 port 0."""
    config = Config(smtp=LOCAL)
    with Sink(config, http=LOCAL, mailpit_http=LOCAL, mailhog_http=LOCAL) as running:
        yield running


def node(client: str, scenario: str, base: str, **argument: Any) -> Any:
    """Run one scenario of tests/js/run.mjs and return what it printed (JSON)."""
    assert NODE is not None
    result = subprocess.run([NODE, "run.mjs", client, scenario, base, json.dumps(argument)],
                            cwd=JS, capture_output=True, text=True, timeout=60,
                            check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def send(sink: Sink, message: EmailMessage, to: list[str] | None = None,
         sender: str = "app@example.com") -> int:  # fmt: skip
    """Send over SMTP and return the stored id (after its 250)."""
    before = sink.cursor().message_id
    with smtplib.SMTP(sink.host, sink.port) as client:
        client.send_message(message, sender, to or ["ann@example.com"])
    [stored] = sink.wait_for(after=before)
    return stored.id


def invoice(subject: str = "Invoice 42") -> EmailMessage:
    message = make_message(subject, "Please pay.", To="Ann <ann@example.com>",
                           Message_ID="<inv-42@shop.test>")  # fmt: skip
    message.add_alternative('<p>Please <img src="cid:logo@shop"> pay.</p>', subtype="html")
    message.get_payload()[1].add_related(b"PNGDATA", "image", "png", cid="<logo@shop>")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="invoice.pdf")
    return message


@pytest.fixture
def filled(sink: Sink) -> dict[str, int]:
    """Three messages: an invoice with attachments, a welcome, a reset (newest); searchable.

    Words and `subject:` are searched in the index, which the indexer fills just after each
    commit: the fixture waits for it, so a search under load does not run ahead of it.
    """
    ids = {
        "invoice": send(sink, invoice()),
        "welcome": send(sink, make_message("Welcome", "Hi Bob", To="bob@example.com"),
                        to=["bob@example.com"]),  # fmt: skip
        "reset": send(sink, make_message("Password reset", "code 1234"), sender="auth@x.test"),
    }
    until(lambda: sink.store.stats()["unindexed"] == 0)
    return ids


# -- mailpit-api 2.1.0 -----------------------------------------------------------------------


def test_mailpit_api_lists_messages_newest_first(sink: Sink, filled: dict[str, int]) -> None:
    found = node("mailpit-api", "list", sink.mailpit_url)
    assert found["subjects"] == ["Password reset", "Welcome", "Invoice 42"]
    assert (found["total"], found["count"], found["unread"]) == (3, 3, 3)
    first = found["first"]
    assert first["ID"] == str(filled["reset"]) and first["From"]["Address"] == "sender@example.com"
    assert first["Created"].endswith("Z") and first["Snippet"] == "code 1234"


def test_mailpit_api_reads_the_latest_message_and_marks_it_read(sink: Sink, filled) -> None:
    found = node("mailpit-api", "latest", sink.mailpit_url)
    assert found["message"]["Subject"] == "Password reset" and found["read"] is True


def test_mailpit_api_downloads_an_attachment_by_its_part_id(sink: Sink, filled) -> None:
    found = node("mailpit-api", "latest", sink.mailpit_url + "/")  # a base URL ending in /
    assert found["message"]["Subject"] == "Password reset"
    parsed = sink.store.read_message(filled["invoice"])
    assert parsed is not None
    pdf = next(a for a in parsed.attachments if a.filename == "invoice.pdf")
    data = node("mailpit-api", "part", sink.mailpit_url, id=str(filled["invoice"]),
                partID=pdf.address)  # fmt: skip
    assert base64.b64decode(data) == PDF


def test_mailpit_api_searches_with_mailpit_syntax(sink: Sink, filled) -> None:
    url = sink.mailpit_url
    assert node("mailpit-api", "search", url, query="subject:invoice") == ["Invoice 42"]
    assert node("mailpit-api", "search", url, query="to:bob") == ["Welcome"]
    assert node("mailpit-api", "search", url, query="from:SENDER !subject:invoice") == [
        "Password reset", "Welcome"]  # fmt: skip
    assert node("mailpit-api", "search", url, query="has:attachment") == ["Invoice 42"]
    assert node("mailpit-api", "search", url, query="!has:attachment larger:1") == [
        "Password reset", "Welcome"]  # fmt: skip


def test_mailpit_api_waits_for_a_message_sent_after_it_started(sink: Sink) -> None:
    timer = threading.Timer(1.0, send, (sink, make_message("Late arrival")))
    timer.start()
    try:
        found = node("mailpit-api", "wait", sink.mailpit_url, query="subject:late")
    finally:
        timer.join()
    assert found["Subject"] == "Late arrival"


def test_mailpit_api_reads_headers_as_mailpit_keys_them(sink: Sink, filled) -> None:
    found = node("mailpit-api", "headers", sink.mailpit_url, id=str(filled["invoice"]))
    assert found["Subject"] == ["Invoice 42"] and found["Message-Id"] == ["<inv-42@shop.test>"]
    assert list(found) == sorted(found)


def test_mailpit_api_reads_the_exact_source(sink: Sink, filled) -> None:
    found = node("mailpit-api", "source", sink.mailpit_url, id=str(filled["welcome"]))
    assert found.encode() == sink.store.raw(filled["welcome"])


def test_mailpit_api_marks_messages_read_and_unread(sink: Sink, filled) -> None:
    ids = [str(filled["welcome"])]
    found = node("mailpit-api", "markRead", sink.mailpit_url, ids=ids, read=True)
    assert found == {str(filled["invoice"]): False, str(filled["welcome"]): True,
                     str(filled["reset"]): False}  # fmt: skip


def test_mailpit_api_deletes_only_the_ids_it_names(sink: Sink, filled) -> None:
    found = node("mailpit-api", "deleteIds", sink.mailpit_url, ids=[str(filled["welcome"])])
    assert found == ["Password reset", "Invoice 42"]


def test_mailpit_api_deletes_by_search(sink: Sink, filled) -> None:
    found = node("mailpit-api", "deleteSearch", sink.mailpit_url, query="subject:welcome")
    assert found == ["Password reset", "Invoice 42"]


def test_mailpit_api_sends_a_message(sink: Sink) -> None:
    found = node("mailpit-api", "send", sink.mailpit_url)
    [message] = sink.messages()
    assert found == {"ID": str(message.id)}
    assert message.subject == "Sent through mailpit-api" and message.tags == ["node"]
    assert message.bcc == ["audit@example.com"]
    assert [a.filename for a in message.attachments] == ["note.txt"]
    assert message.session.kind == "api"


def test_mailpit_api_sets_renames_and_deletes_tags(sink: Sink, filled) -> None:
    found = node("mailpit-api", "tags", sink.mailpit_url, ids=[str(filled["invoice"])])
    assert found == {"set": ["alpha", "beta"], "renamed": ["beta", "gamma"],
                     "deleted": ["gamma"], "tagged": 1}  # fmt: skip


def test_mailpit_api_reads_info_and_the_web_ui_settings(sink: Sink, filled) -> None:
    found = node("mailpit-api", "info", sink.mailpit_url)
    assert found["info"]["Messages"] == 3 and found["info"]["Unread"] == 3
    assert found["webui"]["MessageRelay"]["Enabled"] is False
    assert found["webui"]["SpamAssassin"] is False and found["webui"]["ChaosEnabled"] is True


def stored_size(sink: Sink, message_id: int) -> int:
    record = sink.store.get_message(message_id)
    assert record is not None
    return record.size


@pytest.mark.parametrize("metrics", [True, False], ids=["metrics-on", "metrics-off"])
def test_mailpit_api_info_counts_what_this_run_accepted_rejected_and_deleted(
    metrics: bool,
) -> None:
    config = Config(smtp=LOCAL, metrics=metrics, max_messages=2)
    with Sink(config, mailpit_http=LOCAL) as running:
        url = running.mailpit_url
        sizes = [stored_size(running, send(running, make_message("one", "a" * 100))),
                 stored_size(running, send(running, invoice()))]  # fmt: skip
        sent = node("mailpit-api", "send", url)  # the send API counts, as in Mailpit
        sizes.append(stored_size(running, int(sent["ID"])))
        running.faults.add("rcpt:to=*@bounce.test:550 5.1.1 No such user")
        with smtplib.SMTP(running.host, running.port) as client:
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                client.sendmail("a@example.com", ["b@bounce.test"], b"Subject: x\r\n\r\nx\r\n")
        node("mailpit-api", "deleteIds", url, ids=[sent["ID"]])
        found = node("mailpit-api", "info", url)["info"]
    stats = found["RuntimeStats"]
    assert (stats["SMTPAccepted"], stats["SMTPAcceptedSize"]) == (3, sum(sizes))
    assert stats["SMTPRejected"] == 1 and stats["SMTPIgnored"] == 0
    assert stats["MessagesDeleted"] == 2  # the first, pruned by --max-messages 2, and one more
    assert stats["Memory"] > 1_000_000 and stats["Uptime"] >= 0
    assert found["LatestVersion"] == "disabled"


def test_mailpit_api_renders_the_html_and_text_views(sink: Sink, filled) -> None:
    found = node("mailpit-api", "views", sink.mailpit_url, id=str(filled["invoice"]))
    assert "Please pay." in found["text"]
    assert "/api/v1/message/" in found["html"] and "cid:" not in found["html"]


def test_mailpit_chaos_triggers_become_fault_rules(sink: Sink) -> None:
    found = node("mailpit-api", "chaos", sink.mailpit_url)
    assert found["read"]["Recipient"] == {"ErrorCode": 451, "Probability": 100}
    with smtplib.SMTP(sink.host, sink.port) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: x\r\n\r\nx\r\n")
    node("mailpit-api", "chaosOff", sink.mailpit_url)
    assert sink.faults.rules() == []


def test_mailpit_api_gets_mailpits_404_for_an_unknown_message(sink: Sink) -> None:
    found = node("mailpit-api", "missing", sink.mailpit_url)
    assert found.endswith(": 404 page not found\n")


def linked_message(elsewhere: str) -> EmailMessage:
    """A message with a clean link, a link whose text names another domain, an http: link to
    an IP address (`elsewhere`, a server that records requests) and a link in the text."""
    message = make_message("Links", "Help: https://shop.example.com/help\n")
    message.add_alternative(
        '<p><a href="https://shop.example.com/orders/42">Your order</a>'
        ' <a href="https://track.example.net/c?u=1">shop.example.com</a>'
        f' <a href="{elsewhere}/pixel">unsubscribe</a></p>',
        subtype="html",
    )
    return message


@pytest.mark.parametrize("follow", [False, True])
def test_mailpit_api_link_check_answers_from_the_static_checks_without_requesting_links(
    sink: Sink, follow: bool
) -> None:
    with Canary() as elsewhere:
        message_id = send(sink, linked_message(elsewhere.url))
        found = node("mailpit-api", "linkCheck", sink.mailpit_url, id=str(message_id),
                     follow=follow)  # fmt: skip
        assert elsewhere.requests == []  # not even with follow=true
    passed = "Not followed (static checks passed)"
    assert found == {"Errors": 2, "Links": [
        {"URL": "https://shop.example.com/orders/42", "StatusCode": 0, "Status": passed},
        {"URL": "https://track.example.net/c?u=1", "StatusCode": 0,
         "Status": "Not followed (static checks: content.link-text)"},
        {"URL": f"{elsewhere.url}/pixel", "StatusCode": 0,
         "Status": "Not followed (static checks: content.http-links, content.ip-links)"},
        {"URL": "https://shop.example.com/help", "StatusCode": 0, "Status": passed},
    ]}  # fmt: skip


def test_mailpit_api_html_check_is_mailpits_404(sink: Sink, filled) -> None:
    found = node("mailpit-api", "htmlCheck", sink.mailpit_url, id=str(filled["invoice"]))
    assert found.endswith(": 404 page not found\n")


def test_mailpit_api_works_under_the_compat_path_of_the_main_port(sink: Sink, filled) -> None:
    found = node("mailpit-api", "list", sink.web_url + "/compat/mailpit")
    assert found["subjects"] == ["Password reset", "Welcome", "Invoice 42"]


# -- cypress-mailpit 1.4.0 -------------------------------------------------------------------


def test_cypress_mailpit_gets_all_mails(sink: Sink, filled) -> None:
    found = node("cypress-mailpit", "getAllMails", sink.mailpit_url)
    assert found == {"count": 3, "subjects": ["Password reset", "Welcome", "Invoice 42"]}


def test_cypress_mailpit_reads_a_mail_and_its_views(sink: Sink) -> None:
    send(sink, invoice())
    found = node("cypress-mailpit", "getMail", sink.mailpit_url)
    assert found["subject"] == "Invoice 42" and found["from"] == "sender@example.com"
    assert found["to"] == ["ann@example.com"] and found["attachments"] == ["invoice.pdf"]
    assert "pay." in found["html"] and found["text"].strip() == "Please pay."


def test_cypress_mailpit_sends_a_mail(sink: Sink) -> None:
    found = node("cypress-mailpit", "sendMail", sink.mailpit_url)
    [message] = sink.messages()
    assert found == {"ID": str(message.id)}
    assert message.rcpt_to == ["jane@example.com", "cc@example.com", "bcc@example.com"]


def test_cypress_mailpit_searches_by_subject_and_recipient(sink: Sink, filled) -> None:
    found = node("cypress-mailpit", "searchBySubjectAndTo", sink.mailpit_url, subject="Welcome",
                 to="bob@example.com")  # fmt: skip
    assert found == {"subject": ["Welcome"], "to": ["Welcome"], "has": 1, "hasNot": 0}


def test_cypress_mailpit_sets_read_status(sink: Sink, filled) -> None:
    found = node("cypress-mailpit", "setRead", sink.mailpit_url)
    assert found == {"one": [True, False, False], "none": [False, False, False]}


def test_cypress_mailpit_deletes_by_search_and_all(sink: Sink, filled) -> None:
    url = sink.mailpit_url
    assert node("cypress-mailpit", "deleteBySearch", url, query="subject:reset") == [
        "Welcome", "Invoice 42"]  # fmt: skip
    assert node("cypress-mailpit", "deleteAll", url) == 0


def test_cypress_mailpit_spam_summary_is_mailpits_404_while_off(sink: Sink, filled) -> None:
    assert "404 page not found" in node("cypress-mailpit", "spamSummary", sink.mailpit_url)


def test_mailpit_api_spam_check_reads_spamassassins_verdict(spamd: Address) -> None:
    gtube = make_message("Test", f"The GTUBE test pattern:\n{GTUBE}\n")
    with Sink(Config(smtp=LOCAL, spamd=spamd), mailpit_http=LOCAL) as running:
        send(running, gtube)
        found = node("mailpit-api", "spamCheck", running.mailpit_url)
        summary = node("cypress-mailpit", "spamSummary", running.mailpit_url)
    assert found["Error"] == "" and found["IsSpam"] is True
    assert "GTUBE" in [rule["Name"] for rule in found["Rules"]]
    assert summary == "no error"


# -- mailhog 4.16.0 (npm) --------------------------------------------------------------------


def encoded_message() -> EmailMessage:
    message = make_message("Grüße aus Köln", "Tschüss", To="Zoë <zoe@example.com>")
    message.add_attachment("Ünïcode text".encode(), maintype="text", subtype="plain",
                           filename="note.txt")  # fmt: skip
    return message


def test_mailhog_lists_messages_and_decodes_subjects_and_attachments(sink: Sink) -> None:
    send(sink, encoded_message(), to=["zoe@example.com"])
    found = node("mailhog", "messages", sink.mailhog_url)
    assert (found["total"], found["count"], found["start"]) == (1, 1, 0)
    [item] = found["items"]
    assert item["subject"] == "Grüße aus Köln" and item["to"] == "Zoë <zoe@example.com>"
    assert item["text"].strip() == "Tschüss"
    assert item["attachments"] == [{"name": "note.txt", "type": "text/plain",
                                     "encoding": "base64", "content": "Ünïcode text"}]  # fmt: skip


def test_mailhog_pages_with_start_and_limit(sink: Sink, filled) -> None:
    found = node("mailhog", "messages", sink.mailhog_url, start=1, limit=1)
    assert (found["total"], found["count"], found["start"]) == (3, 1, 1)
    assert [i["subject"] for i in found["items"]] == ["Welcome"]


@pytest.mark.parametrize(("kind", "query", "expected"), [
    ("from", "auth@x.test", ["Password reset"]),
    ("to", "bob@", ["Welcome"]),
    ("containing", "please pay", ["Invoice 42"]),
])  # fmt: skip
def test_mailhog_searches_by_each_kind(sink: Sink, filled, kind, query, expected) -> None:
    found = node("mailhog", "search", sink.mailhog_url, query=query, kind=kind)
    assert found == {"total": len(expected), "subjects": expected}


def test_mailhog_finds_the_latest_by_sender_recipient_and_content(sink: Sink, filled) -> None:
    found = node("mailhog", "latest", sink.mailhog_url, **{"from": "sender@example.com"},
                 to="ann@example.com", containing="Hi Bob")  # fmt: skip
    assert found == {"from": "Password reset", "to": "Password reset", "containing": "Welcome"}


def test_mailhog_deletes_one_message(sink: Sink, filled) -> None:
    found = node("mailhog", "deleteMessage", sink.mailhog_url, id=str(filled["welcome"]))
    assert found == [str(filled["reset"]), str(filled["invoice"])]


def test_mailhog_deletes_all(sink: Sink, filled) -> None:
    assert node("mailhog", "deleteAll", sink.mailhog_url) == 0


def test_mailhog_works_under_the_compat_path_of_the_main_port(sink: Sink, filled) -> None:
    found = node("mailhog", "search", sink.web_url + "/compat/mailhog", query="bob@", kind="to")
    assert found == {"total": 1, "subjects": ["Welcome"]}


# -- mailhog 0.1.1 (PyPI): a host and a port only ------------------------------------------


@pytest.fixture
def pypi_mailhog(sink: Sink) -> Any:
    from urllib.parse import urlsplit

    from mailhog import Mailhog

    parts = urlsplit(sink.mailhog_url)
    return Mailhog(parts.hostname or "127.0.0.1", parts.port or 0)


def test_pypi_mailhog_reads_messages(pypi_mailhog, filled) -> None:
    found = pypi_mailhog.messages()
    assert (found.total, found.count) == (3, 3)
    assert [m.get_subject() for m in found.items] == ["Password reset", "Welcome", "Invoice 42"]
    assert found.items[1].get_recipients() == ["bob@example.com"]
    assert found.items[0].get_sender() == "auth@x.test"


def test_pypi_mailhog_searches(pypi_mailhog, filled) -> None:
    found = pypi_mailhog.search("bob@example.com", kind="to")
    assert [m.get_subject() for m in found.items] == ["Welcome"]


def test_pypi_mailhog_deletes_one_and_all(pypi_mailhog, filled) -> None:
    welcome = next(m for m in pypi_mailhog.messages().items if m.get_subject() == "Welcome")
    pypi_mailhog.delete(welcome)
    assert [m.get_subject() for m in pypi_mailhog.messages().items] == ["Password reset",
                                                                        "Invoice 42"]  # fmt: skip
    pypi_mailhog.delete_all()
    assert pypi_mailhog.messages().total == 0
