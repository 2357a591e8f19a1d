"""Attachments, inline parts and the raw message as the UI serves them, over real HTTP."""

from __future__ import annotations

import urllib.request

import pytest

from tests.uikit import text_message

RAW_TEMPLATE = (
    "From: a@example.com\r\nTo: b@example.com\r\nSubject: files\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
    "--b\r\nContent-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment; {param}\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    "aGVsbG8=\r\n--b--\r\n"
)

NAMES = [
    ('filename="report.pdf"', "report.pdf"),
    ('filename="../../etc/passwd"', "etc_passwd"),
    ('filename="C:\\\\Windows\\\\evil.exe"', "C_Windows_evil.exe"),
    ("filename*=utf-8''evil%0D%0AX-Injected%3A%201.txt", "evilX-Injected_ 1.txt"),
    ("filename*=utf-8''tab%09and%00nul.txt", "tabandnul.txt"),
    ('filename=".."', "part-0"),
    ("filename*=utf-8''r%C3%A9sum%C3%A9.pdf", "résumé.pdf"),
]


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


@pytest.mark.parametrize(("param", "expected"), NAMES)
def test_attachment_downloads_with_a_sanitised_name(ui_server, param, expected) -> None:
    message_id = ui_server.send(RAW_TEMPLATE.format(param=param).encode())
    status, headers, data = fetch(f"{ui_server.url}/messages/{message_id}/attachments/0")
    assert status == 200
    assert data == b"hello"
    disposition = headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "\r" not in disposition and "\n" not in disposition
    quoted = urllib.parse.quote(expected, safe="")
    assert f"filename*=UTF-8''{quoted}" in disposition
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Type"] == "application/octet-stream"


def test_raw_download_is_the_exact_bytes_received(ui_server) -> None:
    raw = RAW_TEMPLATE.format(param='filename="x.bin"').encode()
    message_id = ui_server.send(raw)
    status, headers, data = fetch(f"{ui_server.url}/messages/{message_id}/download.eml")
    assert data == raw
    assert headers["Content-Type"] == "message/rfc822"
    assert headers["Content-Disposition"].startswith(
        f'attachment; filename="message-{message_id}.eml"'
    )


def test_html_document_policy_allows_no_script(ui_server) -> None:
    raw = b"Content-Type: text/html\r\nSubject: h\r\n\r\n<p>hi</p>\r\n"
    message_id = ui_server.send(raw)
    _, headers, body = fetch(f"{ui_server.url}/messages/{message_id}/body.html")
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script" not in policy
    sandbox = policy[policy.index("sandbox") :].split(";")[0].split()
    # The same origin lets the UI measure the document; no allow-scripts, so nothing uses it.
    assert sandbox == ["sandbox", "allow-popups", "allow-popups-to-escape-sandbox",
                       "allow-same-origin"]  # fmt: skip
    assert "http:" not in policy.replace(ui_server.url, "")
    assert b"<p>hi</p>" in body


def test_html_document_with_remote_allowed_still_allows_no_script(ui_server) -> None:
    raw = b"Content-Type: text/html\r\nSubject: h\r\n\r\n<p>hi</p>\r\n"
    message_id = ui_server.send(raw)
    _, headers, _ = fetch(f"{ui_server.url}/messages/{message_id}/body.html?remote=1")
    policy = headers["Content-Security-Policy"]
    assert "img-src data:" in policy and "https:" in policy
    assert "script" not in policy and "default-src 'none'" in policy


def test_inline_part_that_is_not_an_image_is_served_as_a_download(ui_server) -> None:
    raw = (
        b"Subject: cid\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=b\r\n\r\n"
        b'--b\r\nContent-Type: text/html\r\n\r\n<img src="cid:evil@x">\r\n'
        b"--b\r\nContent-Type: text/html\r\nContent-ID: <evil@x>\r\n\r\n"
        b"<script>alert(1)</script>\r\n"
        b"--b--\r\n"
    )
    message_id = ui_server.send(raw)
    _, headers, _ = fetch(f"{ui_server.url}/messages/{message_id}/cid/evil@x")
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "path", ["/messages/999/body.html", "/messages/999/attachments/0", "/messages/999/download.eml",
             "/messages/999/cid/x@y", "/sessions/999"],
)  # fmt: skip
def test_unknown_ids_are_404(ui_server, path) -> None:
    with pytest.raises(urllib.error.HTTPError) as error:
        fetch(ui_server.url + path)
    error.value.close()
    assert error.value.code == 404


SCRIPT_TAG = """src => new Promise(resolve => {
  const script = document.createElement("script");
  script.src = src;
  script.onload = () => resolve("ran");
  script.onerror = () => resolve("refused");
  document.head.append(script);
})"""


def test_a_message_cannot_be_run_as_script_from_our_own_origin(ui_server, page) -> None:
    raw_id = ui_server.send(b"window.ranRaw = true;\r\n")  # a "message" that is JavaScript
    script = text_message("Script attached")
    script.add_attachment(b"window.ranAttachment = true;", maintype="application",
                          subtype="javascript", filename="run.js")  # fmt: skip
    attached_id = ui_server.send(script)
    page.goto(ui_server.url + "/")  # our origin: its policy lets our own scripts run
    assert page.evaluate(SCRIPT_TAG, "/assets/keys.js") == "ran"  # so the tag itself works
    for src in (f"/api/v1/messages/{raw_id}/raw", f"/messages/{raw_id}/download.eml",
                f"/api/v1/messages/{attached_id}/attachments/0",
                f"/messages/{attached_id}/attachments/0"):  # fmt: skip
        assert page.evaluate(SCRIPT_TAG, src) == "refused", src
    assert page.evaluate("[window.ranRaw, window.ranAttachment]") == [None, None]
