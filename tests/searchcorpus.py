"""A fixed set of messages for search tests: folded text, file names, domains, inboxes."""

from __future__ import annotations

from email.message import EmailMessage

from mailtrap_lite.store import Store
from tests.apiserver import index_all, make_message, store_message


def _order() -> EmailMessage:
    return make_message(
        "Your order #1042 has shipped",
        "Thanks for your order. Track it at https://shop.example.com/t/1042\n",
        From="Shop <shop@example.com>",
        To="ann@example.com",
        X_Campaign="spring-sale",
    )


def _invoice() -> EmailMessage:
    msg = make_message("Invoice May", "Please find the invoice attached.\n", To="ann@example.com")
    msg.add_attachment(bytes(range(256)) * 12, maintype="application", subtype="pdf",
                       filename="invoice.pdf")  # fmt: skip
    return msg


def _receipt() -> EmailMessage:
    msg = make_message(
        "Receipt for payment 77",
        "Payment received, thank you.\n",
        From="Shop Mail <noreply@mail.shop.example>",
        To="ann@example.com",
    )
    msg.add_related(b"\x89PNG", maintype="image", subtype="png", cid="<logo@shop>",
                    filename="logo.png", disposition="inline")  # fmt: skip
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf",
                       filename="Rechnung März.PDF")  # fmt: skip
    return msg


KOELN = (
    b"From: =?utf-8?q?J=C3=B6rg?= <joerg@example.de>\r\n"
    b"To: ann@example.net\r\nCc: Carol@Example.com\r\n"
    b"Subject: =?utf-8?b?R3LDvMOfZSBhdXMgS8O2bG4=?=\r\n"
    b"X-Campaign: summer sale\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nHallo zusammen\r\n"
)

# key: (raw message, envelope sender, envelope recipients, received_at, inbox)
CORPUS = {
    "order": (_order().as_bytes(), "bounce@shop.example.com",
              ["ann@example.com", "audit@example.com"], "2024-05-01T09:00:00.000Z", "default"),
    "news": (make_message("Weekly news", "Straße café naïve ÜBER\n", From="news@example.org",
                          To="ba@example.com").as_bytes(),
             "news@example.org", ["ba@example.com"], "2024-05-02T23:59:59.999Z", "default"),
    "koeln": (KOELN, "joerg@example.de", ["ann@example.net", "carol@example.com"],
              "2024-05-03T00:00:00.000Z", "default"),
    "invoice": (_invoice().as_bytes(), "billing@example.com", ["ann@example.com"],
                "2024-06-01T10:00:00.000Z", "default"),
    "short": (make_message("ok", "xy z\n", From="short@x.io", To="tiny@x.io").as_bytes(),
              "short@x.io", ["tiny@x.io"], "2024-06-15T10:00:00.000Z", "default"),
    "team": (make_message("Team update", "meeting at noon\n", From="lead@example.com",
                          To="bob@example.com").as_bytes(),
             "lead@example.com", ["bob@example.com"], "2024-06-20T10:00:00.000Z", "team"),
    "receipt": (_receipt().as_bytes(), "noreply@mail.shop.example", ["ann@example.com"],
                "2024-06-21T10:00:00.000Z", "default"),
    "lodz": (make_message("Spotkanie w Łodzi", "ŒUVRE ﬁnal Ørsted\n", From="lukasz@example.pl",
                          To="Zoë <zoe@shop.example>").as_bytes(),
             "lukasz@example.pl", ["zoe@shop.example"], "2024-06-22T10:00:00.000Z", "default"),
    "draft": (make_message("Draft (f(x)) OR final", "see the notes\n", From="sales@SHOP.EXAMPLE",
                           To="dev@example.net").as_bytes(),
              "sales@SHOP.EXAMPLE", ["dev@example.net"], "2024-06-23T10:00:00.000Z", "default"),
}  # fmt: skip
ALL = set(CORPUS)


def fill(store: Store) -> dict[str, int]:
    """Store the corpus (news read), index it, and return each message's id by key."""
    ids = {key: store_message(store, raw, sender, rcpt, when, inbox)
           for key, (raw, sender, rcpt, when, inbox) in CORPUS.items()}  # fmt: skip
    store.set_read(ids["news"], True)
    index_all(store)
    return ids
