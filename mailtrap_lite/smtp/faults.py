"""Fault injection: rules that make the sink fail the way real servers do, on purpose.

A rule is written `STAGE[:OPTIONS]:ACTION` (the README documents it with examples):

    rcpt:to=*@bounce.test:550 5.1.1 No such user
    mail:probability=0.3,seed=7:451 4.3.0 Try again later
    eom:times=1:drop
    connect:delay=2000

The protocol (smtp.py) asks `FaultRules.fire` at each stage; the first active rule that matches
fires. Rules are plain data (`FaultRule`, frozen); how often each has fired, and its random
generator, live in `FaultRules`, which is safe to change from any thread while the server runs.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import random
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from mailtrap_lite.smtp.replies import with_enhanced_code

STAGES = ("connect", "ehlo", "auth", "mail", "rcpt", "data", "eom")
ACTIONS = ("reply", "delay", "drop")
MAX_DELAY_MS = 600_000

# Which stage knows which fact: the recipients are known from RCPT on, and so on.
FILTER_STAGES = {
    "to": ("rcpt", "data", "eom"),
    "from": ("mail", "rcpt", "data", "eom"),
    "user": ("auth", "mail", "rcpt", "data", "eom"),
}
OPTION_NAMES = (*FILTER_STAGES, "times", "probability", "seed")

# RFC 5321 §4.2: a reply is a three-digit code; RFC 3463 §2: "class.subject.detail".
_REPLY = re.compile(r"^([45])\d\d(?: (?:([245])\.\d{1,3}\.\d{1,3}(?: |$))?.*)?$")
_DELAY = re.compile(r"^delay=(\d+)$")
_OPTION = re.compile(r"^([a-z]+)=(.*)$")

DEFAULT_TEXT = "Requested action not taken (injected fault)"


class FaultError(ValueError):
    """A fault rule that cannot be used; the message says what is wrong."""


@dataclass(frozen=True)
class MatchFacts:
    """What is known about the session when a stage is reached."""

    stage: str
    mail_from: str | None = None
    rcpt_to: Sequence[str] = ()
    user: str | None = None


@dataclass(frozen=True)
class FaultRule:
    """One rule: where it applies, for whom, what it does and how often."""

    stage: str
    action: str
    reply: str | None = None
    delay_ms: int | None = None
    to: str | None = None
    from_: str | None = None
    user: str | None = None
    times: int | None = None  # None: every time
    probability: float | None = None  # None: always
    seed: int | None = None

    def __post_init__(self) -> None:
        _check_stage_and_action(self)
        _check_filters(self)
        _check_frequency(self)

    def matches(self, facts: MatchFacts) -> bool:
        """Tell whether the stage and every filter match (frequency aside)."""
        if facts.stage != self.stage:
            return False
        if self.to is not None and not any(_glob(self.to, r) for r in facts.rcpt_to):
            return False
        if self.from_ is not None and not _glob(self.from_, facts.mail_from):
            return False
        return self.user is None or _glob(self.user, facts.user)

    def to_text(self) -> str:
        """Return the rule in the command-line grammar (parse_rule reads it back)."""
        options = [f"{name}={value}" for name, value in self._options() if value is not None]
        action = {"reply": self.reply, "delay": f"delay={self.delay_ms}", "drop": "drop"}
        parts = [self.stage, ",".join(options), action[self.action]]
        return ":".join(part for part in parts if part)

    def _options(self) -> list[tuple[str, object]]:
        return [("to", self.to), ("from", self.from_), ("user", self.user),
                ("times", self.times), ("probability", self.probability),
                ("seed", self.seed)]  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        """Return the rule as a JSON object (its text form included)."""
        data: dict[str, Any] = {"rule": self.to_text(), "stage": self.stage}
        data.update(action=self.action, reply=self.reply, delay_ms=self.delay_ms)
        data.update((name, value) for name, value in self._options())
        return data

    @classmethod
    def from_json(cls, data: object) -> FaultRule:
        """Build a rule from to_json()'s shape, or from {"rule": "TEXT"}; FaultError if bad."""
        if not isinstance(data, dict):
            raise FaultError("a fault rule must be a JSON object")
        if "stage" not in data:
            text = data.get("rule")
            if not isinstance(text, str):
                raise FaultError('a fault rule needs "stage" and "action", or "rule" text')
            return parse_rule(text)
        fields = {f.name for f in dataclasses.fields(cls)}
        known = {("from_" if key == "from" else key): value for key, value in data.items()}
        unknown = sorted(set(known) - fields - {"rule", "fired"})
        if unknown:
            raise FaultError(f"unknown fault rule field(s): {', '.join(unknown)}")
        values = {key: value for key, value in known.items() if key in fields}
        _check_json_types(values)
        return cls(**values)


def _glob(pattern: str, value: str | None) -> bool:
    """Match a glob case-insensitively (addresses and user names are compared that way)."""
    return value is not None and fnmatch.fnmatchcase(value.lower(), pattern.lower())


def _check_stage_and_action(rule: FaultRule) -> None:
    if rule.stage not in STAGES:
        raise FaultError(f"unknown stage {rule.stage!r}: expected one of {', '.join(STAGES)}")
    if rule.action == "reply":
        _check_reply(rule.reply)
    elif rule.action == "delay":
        delay = rule.delay_ms
        if not isinstance(delay, int) or isinstance(delay, bool) or not 0 <= delay <= MAX_DELAY_MS:
            raise FaultError(f"delay must be a whole number of ms from 0 to {MAX_DELAY_MS}")
    elif rule.action != "drop":
        raise FaultError(f"unknown action {rule.action!r}: expected one of {', '.join(ACTIONS)}")


def _check_reply(reply: str | None) -> None:
    match = _REPLY.match(reply or "")
    if reply is None or match is None or "\r" in reply or "\n" in reply:
        raise FaultError(
            f"bad reply {reply!r}: expected a 4xx or 5xx code and optional text,"
            " e.g. '550 5.1.1 No such user'"
        )
    if match.group(2) is not None and match.group(2) != match.group(1):
        raise FaultError(f"bad reply {reply!r}: the enhanced code's class must match the code")


def _check_filters(rule: FaultRule) -> None:
    for name, value in (("to", rule.to), ("from", rule.from_), ("user", rule.user)):
        if value is None:
            continue
        if not isinstance(value, str) or not value or "," in value or ":" in value:
            raise FaultError(f"{name}= needs a glob pattern without ',' or ':'")
        if rule.stage not in FILTER_STAGES[name]:
            where = ", ".join(FILTER_STAGES[name])
            raise FaultError(f"{name}= does not apply at stage {rule.stage} (only at {where})")


def _check_frequency(rule: FaultRule) -> None:
    if rule.times is not None and (not _is_int(rule.times) or rule.times < 1):
        raise FaultError("times= must be a whole number of at least 1")
    probability = rule.probability
    if probability is not None and (
        not isinstance(probability, int | float) or isinstance(probability, bool)
        or not 0 < probability <= 1
    ):  # fmt: skip
        raise FaultError("probability= must be a number above 0 and at most 1")
    if rule.seed is not None and (not _is_int(rule.seed) or probability is None):
        raise FaultError("seed= must be a whole number and comes with probability=")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_json_types(values: dict[str, Any]) -> None:
    for name in ("stage", "action", "reply", "to", "from_", "user"):
        value = values.get(name)
        if value is not None and not isinstance(value, str):
            raise FaultError(f"{name.rstrip('_')} must be a string")


def parse_rule(text: str) -> FaultRule:
    """Parse `STAGE[:OPTIONS]:ACTION`; FaultError says what is wrong."""
    try:
        return _parse(text.strip())
    except FaultError as error:
        raise FaultError(f"bad fault rule {text!r}: {error}") from None


def _parse(text: str) -> FaultRule:
    stage, sep, rest = text.partition(":")
    if not sep or not rest:
        raise FaultError("expected STAGE[:OPTIONS]:ACTION, e.g. 'rcpt:to=*@bounce.test:550'")
    options: dict[str, Any] = {}
    head, sep, tail = rest.partition(":")
    if sep and _looks_like_options(head):
        options, rest = _parse_options(head), tail
    return FaultRule(stage=stage.strip().lower(), **_parse_action(rest.strip()), **options)


def _looks_like_options(text: str) -> bool:
    items = [_OPTION.match(item.strip()) for item in text.split(",")]
    return all(m is not None and m.group(1) in OPTION_NAMES for m in items)


def _parse_options(text: str) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for item in text.split(","):
        name, _, value = item.strip().partition("=")
        key = "from_" if name == "from" else name
        if key in options:
            raise FaultError(f"{name}= is given twice")
        options[key] = _option_value(name, value.strip())
    return options


def _option_value(name: str, value: str) -> object:
    if name in FILTER_STAGES:
        return value or None
    try:
        return float(value) if name == "probability" else int(value)
    except ValueError:
        raise FaultError(f"{name}= needs a number, got {value!r}") from None


def _parse_action(text: str) -> dict[str, Any]:
    if text.lower() == "drop":
        return {"action": "drop"}
    delay = _DELAY.match(text.lower())
    if delay is not None:
        return {"action": "delay", "delay_ms": int(delay.group(1))}
    if text[:3].isdigit():
        return {"action": "reply", "reply": text if len(text) > 3 else f"{text} {DEFAULT_TEXT}"}
    raise FaultError(
        f"unknown action {text!r}: expected a reply such as '550 5.1.1 No such user',"
        " 'delay=MS' or 'drop'"
    )


class _Armed:
    """A rule with its state: how often it fired and its random generator."""

    def __init__(self, rule: FaultRule, fired: int = 0) -> None:
        self.rule = rule
        self.fired = fired
        self.random = random.Random(rule.seed)

    def active(self) -> bool:
        return self.rule.times is None or self.fired < self.rule.times

    def roll(self) -> bool:
        """Decide whether a matching event fires (a seeded generator repeats its choices)."""
        probability = self.rule.probability
        return probability is None or self.random.random() < probability


def _rule(rule: FaultRule | str) -> FaultRule:
    return parse_rule(rule) if isinstance(rule, str) else rule


class FaultRules:
    """The active fault rules of a running server; every method is thread-safe."""

    def __init__(self, rules: Iterable[FaultRule | str] = ()) -> None:
        """Arm the rules given as FaultRule objects or in the --fault grammar."""
        self._lock = threading.Lock()
        self._armed = [_Armed(_rule(rule)) for rule in rules]

    def rules(self) -> list[FaultRule]:
        """Return the rules, in the order they are tried."""
        with self._lock:
            return [armed.rule for armed in self._armed]

    def replace(self, rules: Iterable[FaultRule | str]) -> None:
        """Replace every rule (their counts start again)."""
        armed = [_Armed(_rule(rule)) for rule in rules]
        with self._lock:
            self._armed = armed

    def add(self, rule: FaultRule | str) -> FaultRule:
        """Add a rule (or its text) after the others; return it."""
        parsed = _rule(rule)
        with self._lock:
            self._armed.append(_Armed(parsed))
        return parsed

    def clear(self) -> None:
        """Remove every rule."""
        self.replace(())

    def remove(self, rule: FaultRule) -> None:
        """Remove one rule (the first equal one), if it is still there."""
        with self._lock:
            for index, armed in enumerate(self._armed):
                if armed.rule == rule:
                    del self._armed[index]
                    return

    def fire(self, facts: MatchFacts) -> FaultRule | None:
        """Return the first active matching rule that fires now, counting it, or None."""
        with self._lock:
            for armed in self._armed:
                if armed.active() and armed.rule.matches(facts) and armed.roll():
                    armed.fired += 1
                    return armed.rule
        return None

    def to_json(self) -> list[dict[str, Any]]:
        """Return the rules as JSON objects, each with how often it has fired."""
        with self._lock:
            return [{**armed.rule.to_json(), "fired": armed.fired} for armed in self._armed]

    @staticmethod
    def from_json(data: object) -> list[FaultRule]:
        """Read a JSON list of rules (to_json()'s shape); FaultError names the bad one."""
        if not isinstance(data, list):
            raise FaultError("fault rules must be a JSON list")
        rules = []
        for index, item in enumerate(data):
            try:
                rules.append(FaultRule.from_json(item))
            except (FaultError, TypeError) as error:
                raise FaultError(f"fault rule {index}: {error}") from None
        return rules


def make_rule(
    stage: str,
    code: int | None = None,
    text: str | None = None,
    *,
    delay_ms: int | None = None,
    drop: bool = False,
    **options: Any,
) -> FaultRule:
    """Build a rule from keywords: a reply `code` (and `text`), a `delay_ms`, or `drop`.

    `options` are the rule's filters and frequency: to, from_, user, times, probability, seed.
    A reply without an enhanced code gets one (RFC 2034), chosen as for real replies.
    """
    if drop:
        return FaultRule(stage=stage, action="drop", **options)
    if delay_ms is not None:
        return FaultRule(stage=stage, action="delay", delay_ms=delay_ms, **options)
    if code is None:
        raise FaultError("a fault needs a reply code, delay_ms= or drop=True")
    reply = with_enhanced_code(f"{code} {text or 'Injected failure'}", stage.upper())
    return FaultRule(stage=stage, action="reply", reply=reply, **options)
