"""Fuzzing every web route's path ids and parameters over a real server: never a 500.

Routes come from the app's own URL map, so a new route is fuzzed without listing it. Ids are
drawn from digits of other scripts (`²`, `١`), numbers past SQLite's 64-bit integers, signs
and random text; parameters from each route's own names (and unknown ones) with values that
mix numbers out of range, dates at the ends of the calendar with far time zones, sizes with
units, and random text. Waits are kept short and event streams end after 0.1 s.
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.routing import Rule

from mailtrap_lite.web import create_app
from mailtrap_lite.web.api.params import ACCEPTED
from tests.apiserver import Served, make_message, until

UI_PARAMETERS = ("inbox", "query", "before", "remote")
NUMBERS = ["0", "1", "2", "-1", "1.5", "1e3", "99999999999999999999", "9223372036854775807",
           "9223372036854775808", "\u00b2", "\u0661", "\uff11", " 1", "0x10", "nan", "inf"]
DATES = ["0001-01-01", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2024-02-30",
         "2024-05-01T25:00", "\u0662\u0660\u0662\u0664-01-01", "2024-05-01Z"]
FILTERS = ["before:", "after:", "larger:", "smaller:", "from:", "to:", "subject:", "header:",
           "is:", "has:", "inbox:", "-", ""]  # fmt: skip
SIZES = ["1", "99999999999999999999G", "1.5M", "\u00b2K", "1e400", "0.0000001K"]

numbers = st.sampled_from(NUMBERS)
texts = st.text(max_size=12)
terms = st.builds(lambda f, v: f + v, st.sampled_from(FILTERS),
                  st.one_of(st.sampled_from(DATES + SIZES + NUMBERS), texts))  # fmt: skip
queries = st.lists(terms, max_size=4).map(" ".join)
values = st.one_of(numbers, queries, texts, st.sampled_from(["true", "false", ""]))
bodies = st.one_of(st.none(), st.just({"read": True}), st.just({"rules": []}),
                   st.dictionaries(st.text(max_size=5), st.one_of(st.booleans(), texts, numbers),
                                   max_size=2))  # fmt: skip


@pytest.fixture(scope="module")
def server() -> Iterator[Served]:
    served = Served(events_seconds=0.1)
    message = make_message("fuzzed", "body")
    message.add_attachment(b"x", maintype="application", subtype="pdf", filename="a.pdf")
    served.send(message)
    until(lambda: served.get("/api/v1/health").json()["unindexed"] == 0)
    yield served
    served.stop()


@pytest.fixture(scope="module")
def rules(server: Served) -> list[tuple[Rule, str, frozenset[str]]]:
    """Return every route as (rule, method, the query parameters it takes)."""
    app = create_app(server.store, server.config)
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        api = rule.rule.startswith("/api/")
        names = getattr(view, ACCEPTED, frozenset()) if api else frozenset(UI_PARAMETERS)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule, method, names))
    return found


def path_of(rule: Rule, draw: Any) -> str:
    """Fill the rule's variables with drawn ids (percent-encoded)."""
    ids = st.one_of(numbers, st.text(min_size=1, max_size=8))
    return re.sub(r"<(?:[^:>]+:)?[^>]+>", lambda _: quote(draw(ids), safe=""), rule.rule)


def parameters_of(names: frozenset[str], draw: Any) -> dict[str, str]:
    known = st.sampled_from(sorted(names)) if names else st.nothing()
    chosen = draw(st.dictionaries(st.one_of(known, st.sampled_from(["qeury", "x"])), values,
                                  max_size=4))  # fmt: skip
    if "timeout" in chosen:  # a valid timeout would hold the test for up to 300 s
        chosen["timeout"] = "0" if _seconds(chosen["timeout"]) else chosen["timeout"]
    return chosen


def _seconds(text: str) -> bool:
    try:
        return 0 < float(text) <= 300
    except ValueError:
        return False


def send(served: Served, method: str, target: str, body: Any) -> int:
    connection = http.client.HTTPConnection(served.host, served.port, timeout=30)
    try:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        connection.request(method, target, body=data, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@given(data=st.data())
def test_no_route_answers_500_to_any_id_or_parameter(server: Served, rules, data) -> None:
    rule, method, names = data.draw(st.sampled_from(rules))
    params = parameters_of(names, data.draw)
    target = path_of(rule, data.draw) + ("?" + urlencode(params) if params else "")
    body = data.draw(bodies) if method in ("PATCH", "PUT", "DELETE") else None
    status = send(server, method, target, body)
    assert status < 500, f"{method} {target} {body!r} answered {status}"
