"""FHIR date/dateTime/instant parsing into microsecond ranges, and instant formatting.

Values are kept as integer microseconds since the Unix epoch (UTC). A value of lower precision
stands for a range: ``2024-05`` is [2024-05-01T00:00, 2024-06-01T00:00).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

MIN_US = -(2**62)  # sentinel for "no value" (sorts first) and open range ends
MAX_US = 2**62

_DT_RE = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,9}))?)?"
    r"(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _us(dt: datetime) -> int:
    delta = dt - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def parse_range(value: str) -> tuple[int, int]:
    """Parse a FHIR date/dateTime/instant; return [lo, hi) in microseconds. ValueError if bad."""
    m = _DT_RE.match(value.strip()) if isinstance(value, str) else None
    if not m:
        raise ValueError(f"not a FHIR date/dateTime/instant: {value!r}")
    y = int(m["y"])
    if m["m"] is None:
        lo = datetime(y, 1, 1, tzinfo=UTC)
        return _us(lo), _us(datetime(y + 1, 1, 1, tzinfo=UTC))
    mo = int(m["m"])
    if m["d"] is None:
        lo = datetime(y, mo, 1, tzinfo=UTC)
        hi = datetime(y + (mo == 12), mo % 12 + 1, 1, tzinfo=UTC)
        return _us(lo), _us(hi)
    d = int(m["d"])
    if m["H"] is None:
        lo = datetime(y, mo, d, tzinfo=UTC)
        return _us(lo), _us(lo + timedelta(days=1))
    tz = m["tz"]
    offset = timedelta(0)
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        offset = sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
    base = datetime(y, mo, d, int(m["H"]), int(m["M"]), tzinfo=UTC) - offset
    if m["S"] is None:
        return _us(base), _us(base) + 60_000_000
    base_us = _us(base) + int(m["S"]) * 1_000_000
    frac = m["f"]
    if not frac:
        return base_us, base_us + 1_000_000
    digits = min(len(frac), 6)
    frac_us = int(frac[:6].ljust(6, "0"))
    return base_us + frac_us, base_us + frac_us + 10 ** (6 - digits)


def is_date(value: object) -> bool:
    return isinstance(value, str) and bool(re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value)) and _ok(value)


def is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return False
    m = _DT_RE.match(value)
    if not m or (m["H"] is not None and (m["S"] is None or m["tz"] is None)):
        return False  # FHIR dateTime: time needs seconds and a zone
    return _ok(value)


def is_instant(value: object) -> bool:
    if not isinstance(value, str):
        return False
    m = _DT_RE.match(value)
    return bool(m and m["S"] is not None and m["tz"] is not None) and _ok(value)


def _ok(value: str) -> bool:
    try:
        parse_range(value)
    except ValueError:
        return False
    return True


def format_instant(us: int) -> str:
    """Microseconds -> FHIR instant with milliseconds and a zone: 2024-05-01T10:00:00.123+00:00."""
    dt = _EPOCH + timedelta(microseconds=us)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}+00:00"


def now_us() -> int:
    return _us(datetime.now(UTC))


def datetime_to_us(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return _us(dt)
