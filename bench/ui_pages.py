"""Time the UI's pages over a Store holding many messages (default 100,000).

    python bench/ui_pages.py [COUNT]

Fills a temporary Store directly (no SMTP), then renders each page through Flask's test
client and prints the median of several renders. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import statistics
import sys
import time

from mailtrap_lite.config import Config
from mailtrap_lite.mime.headers import parse_summary
from mailtrap_lite.store import IndexUpdate, Store
from mailtrap_lite.store.records import NewMessage
from mailtrap_lite.store.sqlite import SQLiteStore
from mailtrap_lite.web import create_app  # type: ignore[import-not-found]

BATCH = 1000
PER_SESSION = 100
WHEN = "2026-01-01T00:00:00.000Z"


def fill(store: Store, count: int) -> None:
    """Add `count` small messages, 100 per session, over four inboxes, all indexed."""
    session = 0
    for n in range(count):
        if n % PER_SESSION == 0:
            session = store.open_session("127.0.0.1:1", WHEN)
        raw = (f"From: App <app@example.com>\r\nTo: user{n}@example.com\r\n"
               f"Subject: Message number {n}\r\n\r\nHello {n}\r\n").encode()  # fmt: skip
        new = NewMessage(raw, "app@example.com", [f"user{n}@example.com"], session,
                         f"inbox{n % 4}", WHEN, parse_summary(raw))  # fmt: skip
        store.add_message(new)
    ids = [m.id for m in store.list_messages(limit=count).messages]
    for start in range(0, len(ids), BATCH):
        store.save_index([IndexUpdate(i, f"Hello {i}", 0, "") for i in ids[start:start + BATCH]])


def median_ms(client: object, path: str, runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)  # type: ignore[attr-defined]
        assert response.status_code == 200, (path, response.status_code)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    store = SQLiteStore(max_messages=0)
    started = time.perf_counter()
    fill(store, count)
    print(f"filled {count} messages in {time.perf_counter() - started:.1f} s")
    middle = count // 2
    client = create_app(store, Config()).test_client()
    started = time.perf_counter()
    client.get("/")
    print(f"GET / first render (counts inboxes)  {(time.perf_counter() - started) * 1000:7.1f} ms")
    paths = [
        "/", "/?inbox=inbox1", f"/?before={middle}", f"/?inbox=inbox2&before={middle}",
        f"/messages/{middle}", "/sessions", "/?query=user4242@example.com",
        "/?query=subject:%22number+9%22", "/?query=is:unread+to:user7@example.com",
    ]  # fmt: skip
    for path in paths:
        print(f"GET {path:<40} {median_ms(client, path):7.1f} ms (median of 7)")
    store.close()


if __name__ == "__main__":
    main()
