"""Which fault the proxy injects into which request: a pure function of the seed, the
request (method, path, a hash of its stable content) and how many times the proxy has
seen that same request before, so a run can be reproduced and a retry of a damaged request
is decided afresh."""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field

# 500: answered by the proxy, the payer never saw the request; 500_forwarded: the payer
# got it (an 837 is stored) and the answer was lost; 503 with Retry-After; hang: longer than
# the client's timeout, then forwarded or dropped; garbage: a 200 of random bytes or
# X12-looking noise; truncated: the real 200 cut short; wrong_answer: a real answer to
# another request; duplicate / redeliver (the ERA mailbox only): an 835 twice in a batch,
# 835s from before the cursor delivered again.
KINDS = (
    "500",
    "500_forwarded",
    "503",
    "hang",
    "garbage",
    "truncated",
    "wrong_answer",
    "duplicate",
    "redeliver",
)
ERA_PATH = "/x12/era"
ERA_ONLY = frozenset({"duplicate", "redeliver"})
NOT_ON_ERA = frozenset({"wrong_answer"})  # a page of another cursor would skip 835s

# Like the trial that found the garbled-271 bug, scaled so Temporal's retries absorb it:
# about one payer request in four is damaged, one ERA read in three.
DEFAULT_RATES = {
    "500": 0.06,
    "500_forwarded": 0.04,
    "503": 0.04,
    "hang": 0.01,
    "garbage": 0.04,
    "truncated": 0.03,
    "wrong_answer": 0.03,
    "duplicate": 0.10,
    "redeliver": 0.10,
}

# Envelope segments whose dates and times follow the clock: left out of a request's identity.
_VOLATILE_SEGMENTS = ("ISA", "GS", "BHT")


def applicable_kinds(method: str, path: str) -> tuple[str, ...]:
    if method == "GET" and path == ERA_PATH:
        return tuple(k for k in KINDS if k not in NOT_ON_ERA)
    return tuple(k for k in KINDS if k not in ERA_ONLY)


def request_key(method: str, path: str, query: dict[str, str], body: bytes) -> str:
    """What identifies a request across runs: an X12 request without its envelope's clock
    fields; an ERA read by its cursor's sequence (the mailbox id is new in every run)."""
    if path == ERA_PATH:
        cursor = query.get("cursor", "")
        identity = f"after={cursor.rpartition('.')[2]}&limit={query.get('limit', '')}"
    else:
        text = body.decode("ascii", "replace")
        terminator = text[105] if text.startswith("ISA") and len(text) > 105 else "~"
        segments = [s.strip() for s in text.split(terminator)]
        identity = terminator.join(
            s for s in segments if s and not s.startswith(_VOLATILE_SEGMENTS)
        )
    return hashlib.sha256(f"{method} {path} {identity}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class FaultPlan:
    seed: int
    rates: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RATES))
    hang_seconds: float = 11.0  # > payers/client.py's 10 s httpx timeout
    retry_after_seconds: int = 1

    def __post_init__(self) -> None:
        unknown = set(self.rates) - set(KINDS)
        if unknown:
            raise ValueError(f"rates: unknown fault kinds {sorted(unknown)}; known: {KINDS}")
        for kind, rate in self.rates.items():
            if not 0 <= rate <= 1:
                raise ValueError(f"rates[{kind!r}]: {rate} is not between 0 and 1")
        for method, path in (("POST", "/x12/270"), ("GET", ERA_PATH)):
            total = sum(self.rates.get(k, 0.0) for k in applicable_kinds(method, path))
            if total > 1:
                raise ValueError(f"rates for {method} {path} add up to {total:.2f} > 1")

    def decide(
        self, method: str, path: str, key: str, attempt: int
    ) -> tuple[str | None, random.Random]:
        """The fault for the `attempt`-th sight (from 0) of request `key`, or None; and the
        random source that shapes it (where to cut, which other answer)."""
        digest = hashlib.sha256(f"{self.seed}|{method}|{path}|{key}|{attempt}".encode())
        rng = random.Random(digest.digest())
        draw = rng.random()
        bound = 0.0
        for kind in applicable_kinds(method, path):
            bound += self.rates.get(kind, 0.0)
            if draw < bound:
                return kind, rng
        return None, rng


def parse_rates(text: str) -> dict[str, float]:
    """`500=0.1,hang=0.02` -> {"500": 0.1, "hang": 0.02} (the runner's --rates)."""
    rates: dict[str, float] = {}
    for item in filter(None, re.split(r"[,\s]+", text)):
        kind, _, value = item.partition("=")
        try:
            rates[kind] = float(value)
        except ValueError:
            raise ValueError(f"--rates: {item!r} is not KIND=RATE") from None
    return rates
