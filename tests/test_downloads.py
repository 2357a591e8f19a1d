"""One download path: every route that sends a message's bytes sends the same safe headers."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from tests.apiserver import Served, until


def script_message() -> bytes:
    message = EmailMessage()
    message["From"] = "app@example.com"
    message["To"] = "ann@example.com"
    message["Subject"] = "Scripts"
    message.set_content("see attached")
    message.add_attachment(b"alert(document.domain)", maintype="application",
                           subtype="javascript", filename="\u202egnp.js")  # fmt: skip
    message.add_attachment(b"\x89PNG\r\n\x1a\n", maintype="image", subtype="png",
                           filename="pic.png", disposition="inline", cid="<pic@x>")  # fmt: skip
    return message.as_bytes()


@pytest.fixture
def delivered(served: Served) -> str:
    served.send(script_message())
    [summary] = until(lambda: served.get("/api/v1/wait").json()["messages"])
    return str(summary["id"])


ROUTES = [
    "/api/v1/messages/{id}/raw",
    "/api/v1/messages/{id}/attachments/0",
    "/api/v1/messages/{id}/attachments/1",
    "/messages/{id}/download.eml",
    "/messages/{id}/attachments/0",
    "/messages/{id}/attachments/1",
]


@pytest.mark.parametrize("route", ROUTES)
def test_every_download_route_sends_the_safe_headers(served: Served, delivered: str, route: str):
    reply = served.get(route.format(id=delivered))
    assert reply.status == 200
    assert reply.headers["Content-Disposition"].startswith("attachment; filename=")
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in reply.headers["Content-Security-Policy"]


@pytest.mark.parametrize("route", ["/api/v1/messages/{id}/attachments/0",
                                   "/messages/{id}/attachments/0"])  # fmt: skip
def test_a_script_attachment_is_not_served_as_script(served: Served, delivered: str, route: str):
    reply = served.get(route.format(id=delivered))
    assert reply.headers["Content-Type"] == "application/octet-stream"
    assert reply.body == b"alert(document.domain)"
    # one sanitiser everywhere: the right-to-left override that disguises "sj.png" is gone
    assert "\u202e" not in reply.headers["Content-Disposition"]
    assert "%E2%80%AE" not in reply.headers["Content-Disposition"]


def test_an_inline_image_is_shown_in_the_frame_and_downloaded_elsewhere(
    served: Served, delivered: str
) -> None:
    shown = served.get(f"/messages/{delivered}/cid/pic@x")
    assert shown.headers["Content-Type"] == "image/png"
    assert shown.headers["Content-Disposition"].startswith("inline;")
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    downloaded = served.get(f"/api/v1/messages/{delivered}/attachments/1")
    assert downloaded.headers["Content-Type"] == "image/png"
    assert downloaded.headers["Content-Disposition"].startswith("attachment;")
