"""Retry timing: capped full-jitter exponential backoff, Retry-After and IETF RateLimit fields."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def full_jitter(attempt: int, *, base: float = 0.5, cap: float = 60.0,
                rng: random.Random | None = None) -> float:
    """AWS "full jitter": uniform(0, min(cap, base * 2**attempt)); ``attempt`` counts from 0."""
    r = rng or random
    return r.uniform(0.0, min(cap, base * (2 ** min(attempt, 32))))


_T_RE = re.compile(r"(?:^|[;,\s])t=(\d+(?:\.\d+)?)")
_R_RE = re.compile(r"(?:^|[;,\s])r=(\d+)")
_RESET_RE = re.compile(r"(?:^|[;,\s])reset=(\d+(?:\.\d+)?)")
_REMAINING_RE = re.compile(r"(?:^|[;,\s])remaining=(\d+)")


def retry_after_seconds(headers: Mapping[str, str], *, status: int | None = None,
                        now: datetime | None = None) -> float | None:
    """Seconds the server asks us to wait, from ``Retry-After`` (delta or HTTP-date) or the
    IETF ``RateLimit`` fields (``RateLimit: "q";r=0;t=43``, or the older
    ``RateLimit-Remaining``/``RateLimit-Reset`` pair). None when the server said nothing.

    A RateLimit reset only counts when the quota is exhausted (r=0) or the answer was a 429.
    """
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    rl = headers.get("ratelimit")
    if rl:
        t = _T_RE.search(rl) or _RESET_RE.search(rl)
        r = _R_RE.search(rl) or _REMAINING_RE.search(rl)
        if t and (status == 429 or (r is not None and int(r.group(1)) == 0)):
            return float(t.group(1))
    reset = headers.get("ratelimit-reset") or headers.get("x-ratelimit-reset")
    remaining = headers.get("ratelimit-remaining") or headers.get("x-ratelimit-remaining")
    if reset:
        try:
            secs = float(reset)
        except ValueError:
            return None
        exhausted = remaining is not None and remaining.strip() == "0"
        if status == 429 or exhausted:
            if secs > 1e9:  # an epoch timestamp (x-ratelimit-reset on some gateways)
                secs = secs - (now or datetime.now(UTC)).timestamp()
            return max(0.0, secs)
    return None
