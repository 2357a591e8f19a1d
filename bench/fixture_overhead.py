"""Fixture benchmark: what a test pays for smtp_sink, next to smtpdfix's smtpd fixture.

Run it by hand from the repository root; it prints numbers and asserts nothing:

    pip install smtpdfix                  # a benchmark-only dependency, not in the test extra
    python bench/fixture_overhead.py      # 500 tests per suite, 3 rounds
    python bench/fixture_overhead.py --tests 2000 --rounds 5

It writes three generated suites of N tests into a temporary directory and runs each with
`python -m pytest` in a subprocess, one after the other, for several rounds:

- smtp_sink: each test sends one message with smtplib and asserts on it with
  `smtp_sink.wait_for(subject=...)` and `message.body_contains(...)`;
- smtpd: the same with smtpdfix's function-scoped `smtpd` fixture (a new server per test),
  asserting on `smtpd.messages`;
- empty: tests that do nothing, pytest's own cost per test.

A conftest records each test's setup, call and teardown durations (pytest's report
durations) and, inside the test, the time of the send alone. "Overhead" is a test's setup +
call + teardown minus its send: what the fixture and the assertion cost around the SMTP
exchange. The suite time is the wall time of the pytest subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFTEST = '''
import json, os, time
import pytest

DURATIONS = {}


@pytest.fixture
def timed_send():
    """Send one message and record how long the send alone took."""
    import smtplib

    def send(host, port, subject, request):
        started = time.perf_counter()
        with smtplib.SMTP(host, port) as client:
            client.sendmail("app@example.com", ["user@example.com"],
                            f"Subject: {subject}\\r\\n\\r\\nhello {subject}\\r\\n".encode())
        request.node.user_properties.append(("send", time.perf_counter() - started))

    return send


def pytest_runtest_logreport(report):
    entry = DURATIONS.setdefault(report.nodeid, {"send": 0.0})
    entry[report.when] = report.duration
    for name, value in report.user_properties:
        entry[name] = value


def pytest_sessionfinish(session):
    with open(os.environ["FIXTURE_BENCH_OUT"], "w") as out:
        json.dump(DURATIONS, out)
'''

SUITES = {
    "smtp_sink": """
import pytest

@pytest.mark.parametrize("n", range({tests}))
def test_send(smtp_sink, timed_send, request, n):
    timed_send(smtp_sink.host, smtp_sink.port, f"s{{n}}", request)
    message = smtp_sink.wait_for(subject=f"s{{n}}")
    assert message.body_contains(f"hello s{{n}}")
""",
    "smtpd": """
import pytest

@pytest.mark.parametrize("n", range({tests}))
def test_send(smtpd, timed_send, request, n):
    timed_send(smtpd.hostname, smtpd.port, f"s{{n}}", request)
    [message] = smtpd.messages
    assert message["Subject"] == f"s{{n}}"
    assert f"hello s{{n}}" in message.get_payload()
""",
    "empty": """
import pytest

@pytest.mark.parametrize("n", range({tests}))
def test_nothing(n):
    pass
""",
}


def run_suite(name: str, tests: int, workdir: Path) -> tuple[float, dict[str, dict[str, float]]]:
    """Run one generated suite; return its wall time and per-test durations."""
    suite = workdir / name
    suite.mkdir(exist_ok=True)
    (suite / "conftest.py").write_text(CONFTEST)
    (suite / f"test_{name}.py").write_text(SUITES[name].format(tests=tests))
    (suite / "pytest.ini").write_text("[pytest]\n")
    out = suite / "durations.json"
    env = {**os.environ, "FIXTURE_BENCH_OUT": str(out)}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(suite)]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=suite, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{name} suite failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return wall, json.loads(out.read_text())


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:8.3f}"


def summarise(name: str, walls: list[float], rows: list[dict[str, float]]) -> dict[str, float]:
    """Print one row (medians over every test of every round) and return wall and overhead."""
    setup = [r.get("setup", 0.0) for r in rows]
    call = [r.get("call", 0.0) for r in rows]
    teardown = [r.get("teardown", 0.0) for r in rows]
    send = [r["send"] for r in rows]
    total = [s + c + t for s, c, t in zip(setup, call, teardown, strict=True)]
    overhead = [t - s for t, s in zip(total, send, strict=True)]
    wall = statistics.median(walls)
    print(f"{name:10} {len(rows):6d} {wall:9.2f} {ms(setup)} {ms(call)} {ms(teardown)}"
          f" {ms(send)} {ms(total)} {ms(overhead)}")  # fmt: skip
    return {"wall": wall, "overhead": statistics.median(overhead)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tests", type=int, default=500, help="tests per suite (default 500)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each suite (default 3)")
    args = parser.parse_args()
    names = ("empty", "smtp_sink", "smtpd")
    walls: dict[str, list[float]] = {name: [] for name in names}
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix="fixture-bench-") as tmp:
        for _ in range(args.rounds):  # interleaved, so a busy moment hits every suite alike
            for name in names:
                wall, durations = run_suite(name, args.tests, Path(tmp))
                walls[name].append(wall)
                rows[name] += durations.values()
    print(f"{args.tests} tests per suite, {args.rounds} rounds; per-test medians in ms over"
          " all rounds; suite wall time: median of the rounds, in s")  # fmt: skip
    print(f"{'suite':10} {'tests':>6} {'wall s':>9} {'setup':>8} {'call':>8} {'teardown':>8}"
          f" {'send':>8} {'total':>8} {'overhead':>8}")  # fmt: skip
    results = {name: summarise(name, walls[name], rows[name]) for name in names}
    sink, smtpd, empty = results["smtp_sink"], results["smtpd"], results["empty"]
    print(f"smtp_sink overhead beyond the send: {sink['overhead'] * 1000:.3f} ms median per test")
    print(f"smtpd overhead beyond the send:     {smtpd['overhead'] * 1000:.3f} ms median per test")
    print(f"whole suite: smtpd / smtp_sink = {smtpd['wall'] / sink['wall']:.2f}x"
          f" (smtp_sink {sink['wall']:.2f} s, smtpd {smtpd['wall']:.2f} s,"
          f" empty tests {empty['wall']:.2f} s)")  # fmt: skip
    print_fixture_cost(walls)


def print_fixture_cost(walls: dict[str, list[float]]) -> None:
    """Print each round's suites less the empty one (what the fixture and the sends cost)."""
    ratios = []
    for number, (empty, sink, smtpd) in enumerate(
        zip(walls["empty"], walls["smtp_sink"], walls["smtpd"], strict=True), start=1
    ):
        ratio = (smtpd - empty) / (sink - empty) if sink > empty else float("inf")
        ratios.append(ratio)
        print(f"round {number}: empty {empty:.2f} s, smtp_sink {sink:.2f} s, smtpd {smtpd:.2f} s;"
              f" (smtpd - empty) / (smtp_sink - empty) = {ratio:.2f}x")  # fmt: skip
    print(f"suite less pytest's own cost: smtpd / smtp_sink = {statistics.median(ratios):.2f}x"
          " (median of the rounds)")


if __name__ == "__main__":
    main()
