"""`mailtrap-lite check FILE.eml…`: the deliverability report of message files.

A CI job can lint rendered templates without sending them. The exit status is 0 when no
check fails, 1 when one does, 2 for a usage error or a file that cannot be read. Files have
no SMTP session, so the transport checks say so; everything else is the server's report.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mailtrap_lite.checks import FAIL, INFO, PASS, WARN, Checker, KeyRing, Report

from .options import EXIT_USAGE, Option, Parser, add_options, choice, resolve
from .serve import DKIM_KEY, SPAMD, dkim_records

EXIT_FAILED = 1
DESCRIPTION = (
    "Print the deliverability report of message files (.eml): authentication, bulk-sender"
    " rules, format, content and, with --spamd, SpamAssassin's score. Exit status 1 when a"
    " check fails."
)
OPTIONS = [
    Option("--format", "text for people, json for programs", choice("text", "json"), "text",
           "text|json"),
    DKIM_KEY,
    SPAMD,
]  # fmt: skip
LABELS = {FAIL: "FAIL", WARN: "WARN", INFO: "info"}


def build_parser() -> Parser:
    """Describe `mailtrap-lite check FILE.eml… [options]`."""
    parser = Parser(prog="mailtrap-lite check", description=DESCRIPTION)
    parser.add_argument("files", nargs="+", metavar="FILE.eml", help="message files to check")
    add_options(parser, OPTIONS)
    return parser


def run(argv: Sequence[str]) -> int:
    """Check each file; return 1 when a check fails, 2 when a file cannot be read."""
    args = build_parser().parse_args(argv)
    values = resolve(args, OPTIONS)
    checker = Checker(KeyRing(dkim_records(values["dkim_key"])), values["spamd"])
    reports: list[tuple[str, Report]] = []
    for name in args.files:
        try:
            raw = Path(name).read_bytes()
        except OSError as error:
            print(f"mailtrap-lite: cannot read {name}: {error.strerror}", file=sys.stderr)
            return EXIT_USAGE
        reports.append((name, checker.check_file(raw)))
    text = as_json(reports) if values["format"] == "json" else as_text(reports)
    sys.stdout.write(text)
    return EXIT_FAILED if any(report.failures for _, report in reports) else 0


def as_json(reports: list[tuple[str, Report]]) -> str:
    """Return {"files": [{"file", "summary", "checks"}]}; each report has the API's shape."""
    files: list[dict[str, Any]] = [
        {
            "file": name,
            "summary": report.summary,
            # The fields of a Check are the API's check shape (web/shapes.py; a test holds
            # the two equal). The core may not import the web package, so it is not reused.
            "checks": [dataclasses.asdict(found) for found in report.checks],
        }
        for name, report in reports
    ]
    return json.dumps({"files": files}, indent=2, ensure_ascii=False) + "\n"


def as_text(reports: list[tuple[str, Report]]) -> str:
    """Return each file's counts, then failures and warnings with their detail, then context.

    Passed checks are counted, not listed (--format json lists them).
    """
    lines: list[str] = []
    for name, report in reports:
        counts = report.summary
        warnings = f"{counts[WARN]} warning{'' if counts[WARN] == 1 else 's'}"
        lines.append(f"{name}: {counts[FAIL]} failed, {warnings}, {counts[PASS]} passed")
        for found in (c for c in report.checks if c.status != PASS):
            lines.append(f"  {LABELS[found.status]}  {found.id}: {found.title}")
            if found.status in (FAIL, WARN) and found.detail:
                lines.append(f"        {found.detail}")
            if found.status in (FAIL, WARN):
                lines.append(f"        ({found.reference})")
    return "\n".join(lines) + "\n"
