"""Tags: from X-Tags, plus-addresses, --tag rules and by hand; searched, counted, renamed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mailtrap_lite.config import Address, Config
from mailtrap_lite.store.tagging import TagError, check_tag, plus_tags, tag_list
from mailtrap_lite.testing import Sink, SinkView
from tests.apiserver import Served, make_message, send_mail, store_message, until
from tests.backends import Backend

pytestmark = pytest.mark.backends


@pytest.fixture
def tagged(backend: Backend) -> Iterator[Served]:
    """A server with a rule, and one message from each source of tags."""
    with backend.settings() as database:
        served = Served(tag_rules=(("invoice", "subject:invoice"),), **database)
        served.send(make_message("welcome", X_Tags="signup, Welcome ,  "))
        served.send(make_message("to a plus address"), to=["ann+billing@example.com"])
        served.send(make_message("your invoice 42"))
        served.send(make_message("untagged"))
        yield served
        served.stop()


def _by_subject(served: Served) -> dict[str, list[str]]:
    messages = served.get("/api/v1/messages").json()["messages"]
    return {m["subject"]: m["tags"] for m in messages}


def test_the_x_tags_header_tags_a_message(tagged: Served) -> None:
    assert _by_subject(tagged)["welcome"] == ["signup", "Welcome"]


def test_a_plus_address_tags_a_message(tagged: Served) -> None:
    assert _by_subject(tagged)["to a plus address"] == ["billing"]


def test_a_tag_rule_tags_the_messages_its_query_matches(tagged: Served) -> None:
    found = until(lambda: _by_subject(tagged)["your invoice 42"])
    assert found == ["invoice"]
    assert _by_subject(tagged)["untagged"] == []


def test_tags_set_by_hand_replace_the_message_tags(tagged: Served) -> None:
    target = next(m for m in tagged.get("/api/v1/messages").json()["messages"]
                  if m["subject"] == "welcome")  # fmt: skip
    reply = tagged.request("PATCH", f"/api/v1/messages/{target['id']}", body={"tags": ["vip"]})
    assert reply.status == 200 and reply.json()["tags"] == ["vip"]
    assert _by_subject(tagged)["welcome"] == ["vip"]


@pytest.mark.parametrize("tags", [["bad/slash"], "vip", [1], [""]])
def test_a_bad_tag_list_is_a_400_and_changes_nothing(tagged: Served, tags: object) -> None:
    first = tagged.get("/api/v1/messages").json()["messages"][0]
    reply = tagged.request("PATCH", f"/api/v1/messages/{first['id']}", body={"tags": tags})
    assert reply.status == 400 and "tags" in reply.json()["error"]
    assert tagged.get(f"/api/v1/messages/{first['id']}").json()["tags"] == first["tags"]


def test_search_by_tag_ignores_case(tagged: Served) -> None:
    found = tagged.get("/api/v1/messages", query="tag:WELCOME").json()["messages"]
    assert [m["subject"] for m in found] == ["welcome"]


def test_is_tagged_finds_every_tagged_message(tagged: Served) -> None:
    until(lambda: _by_subject(tagged)["your invoice 42"])
    found = tagged.get("/api/v1/messages", query="is:tagged").json()["messages"]
    untagged = tagged.get("/api/v1/messages", query="-is:tagged").json()["messages"]
    assert {m["subject"] for m in untagged} == {"untagged"}
    assert len(found) == 3


def test_the_tag_list_counts_messages_and_unread(tagged: Served) -> None:
    until(lambda: _by_subject(tagged)["your invoice 42"])
    welcome = tagged.get("/api/v1/messages", query="tag:signup").json()["messages"][0]
    tagged.request("PATCH", f"/api/v1/messages/{welcome['id']}", body={"read": True})
    tags = tagged.get("/api/v1/tags").json()["tags"]
    assert tags == [
        {"name": "billing", "total": 1, "unread": 1},
        {"name": "invoice", "total": 1, "unread": 1},
        {"name": "signup", "total": 1, "unread": 0},
        {"name": "Welcome", "total": 1, "unread": 0},
    ]


def test_renaming_a_tag_renames_it_on_every_message(tagged: Served) -> None:
    reply = tagged.request("PUT", "/api/v1/tags/signup", body={"name": "new-user"})
    assert reply.status == 200
    assert _by_subject(tagged)["welcome"] == ["new-user", "Welcome"]


def test_renaming_onto_an_existing_tag_merges_them(tagged: Served) -> None:
    assert tagged.request("PUT", "/api/v1/tags/signup", body={"name": "billing"}).status == 200
    found = tagged.get("/api/v1/messages", query="tag:billing").json()["messages"]
    assert {m["subject"] for m in found} == {"welcome", "to a plus address"}


def test_deleting_a_tag_untags_every_message(tagged: Served) -> None:
    reply = tagged.request("DELETE", "/api/v1/tags/billing")
    assert reply.status == 200 and reply.json() == {"untagged": 1}
    assert _by_subject(tagged)["to a plus address"] == []


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_an_unknown_tag_is_a_404(tagged: Served, method: str) -> None:
    reply = tagged.request(method, "/api/v1/tags/nope", body={"name": "x"})
    assert reply.status == 404


def test_plus_address_tags_can_be_turned_off(make_sink) -> None:
    sink = make_sink(plus_tags=False)
    send_mail(sink, make_message("plus"), to=["ann+billing@example.com"])
    [message] = sink.wait_for()
    assert message.tags == []


def test_captured_messages_carry_their_tags(sink: Sink) -> None:
    view = SinkView(sink)
    send_mail(sink, make_message("hi", X_Tags="a, b"), to=["x+c@example.com"])
    assert view.wait_for().tags == ["a", "b", "c"]


def test_a_bad_tag_rule_stops_the_server_before_it_starts() -> None:
    with pytest.raises(ValueError, match="--tag broken="):
        Sink(Config(smtp=Address("127.0.0.1", 0), tag_rules=(("broken", "before:x"),))).start()


def test_tags_survive_in_the_store_and_go_with_their_message(backend: Backend) -> None:
    with backend.store() as store:
        first = store_message(store, b"Subject: a\r\n\r\nx\r\n")
        store.add_tags([first], ["keep"])
        assert [m.tags for m in store.list_messages().messages] == [["keep"]]
        store.delete_messages([first])
        assert store.tags() == []


def test_tag_names_differ_by_more_than_ascii_case(backend: Backend) -> None:
    with backend.store() as store:
        first = store_message(store, b"Subject: a\r\n\r\nx\r\n")
        second = store_message(store, b"Subject: b\r\n\r\nx\r\n")
        store.add_tags([first], ["Billing", "Ärger"])
        store.add_tags([second], ["BILLING", "ärger"])
        assert store.tags() == [("Billing", 2, 2), ("Ärger", 1, 1), ("ärger", 1, 1)]


@pytest.mark.parametrize(
    ("header", "expected"),
    [("a, b", ["a", "b"]), ("a,,A", ["a"]), ("x y, bad/one", ["x y"]), ("", [])],
)
def test_the_x_tags_header_is_read_as_a_list(header: str, expected: list[str]) -> None:
    assert tag_list(header) == expected


def test_only_the_part_after_the_plus_is_a_tag() -> None:
    assert plus_tags(["a+b@x.test", "plain@x.test", "c+@x.test", "d+e+f@x.test"]) == ["b", "e+f"]


@pytest.mark.parametrize("name", ["", " ", "a" * 65, "semi;colon", "line\nbreak"])
def test_unusable_tag_names_are_refused(name: str) -> None:
    with pytest.raises(TagError):
        check_tag(name)
