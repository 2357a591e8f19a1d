"""GET never changes state: reading every page and API route of a message leaves it unread."""

from __future__ import annotations

from tests.apiserver import Served, make_message, until

GETS = [
    "/messages/{id}",
    "/messages/{id}/body.html",
    "/messages/{id}/download.eml",
    "/",
    "/sessions",
    "/api/v1/messages/{id}",
    "/api/v1/messages/{id}/raw",
    "/api/v1/messages",
    "/api/v1/wait?timeout=0",
    "/api/v1/sessions",
    "/api/v1/inboxes",
    "/api/v1/health",
]


def test_no_get_route_changes_anything(served: Served) -> None:
    message = make_message("unread", "body")
    message.add_alternative("<p>html</p>", subtype="html")
    served.send(message)
    until(lambda: served.get("/api/v1/health").json()["unindexed"] == 0)
    [summary] = served.get("/api/v1/messages").json()["messages"]
    changes = served.store.feed.seq
    for path in GETS:
        assert served.get(path.format(id=summary["id"])).status == 200, path
    assert served.store.feed.seq == changes  # no write of any kind was announced
    assert served.get(f"/api/v1/messages/{summary['id']}").json()["read"] is False
