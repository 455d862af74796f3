"""sync.pull._page_span: the lastUpdated span of a page, and its one-pass fixed-width check."""

from __future__ import annotations

import random

import pytest

from triage_tui.domain.fhir import parse_instant
from triage_tui.sync.pull import _fixed_width, _page_span


def _fixed_width_per_item(raws, n, zone):
    """The definition _fixed_width checks on the joined strings."""
    return all(isinstance(r, str) and len(r) == n and r.endswith(zone) and r[10] == "T"
               for r in raws)


def _span_per_item(resources):
    """The span as the general (per-item, parsed) path computes it."""
    in_order, newest, newest_raw, prev = True, None, None, None
    for res in resources:
        meta = res.get("meta")
        raw = meta.get("lastUpdated") if isinstance(meta, dict) else None
        d = parse_instant(raw)
        if d is None:
            continue
        if prev is not None and d < prev:
            in_order = False
        prev = d
        if newest is None or d > newest:
            newest, newest_raw = d, raw
    return in_order, newest, newest_raw


def _page(raws):
    return [{"resourceType": "Task", "id": str(i), "meta": {"lastUpdated": r}}
            for i, r in enumerate(raws)]


STAMP = "2025-01-02T03:04:05.678+00:00"


@pytest.mark.parametrize("odd", [
    "2025-01-02T03:04:05.678+01:00",  # another zone
    "2025-01-02T03:04:05.67+00:00",  # another width
    "2025-01-02T03:04:05.6789+00:00",
    "2025-01-02 03:04:05.678+00:00",  # no T
    "2025-01-02T03:04:05.678Z+0:00",  # the zone's length, another zone
    "2025-01-02T03:04:05.678+00:01",
    None, 17, ["x"],
])
def test_fixed_width_sees_any_item_that_differs(odd):
    rng = random.Random(3)
    for size in (1, 2, 7, 1000):
        raws = [STAMP] * size
        for at in {0, size // 2, size - 1}:
            case = list(raws)
            case[at] = odd
            if at == 0:
                continue  # the first item defines the format
            assert _fixed_width(case, len(STAMP), "+00:00") is False
            assert _fixed_width_per_item(case, len(STAMP), "+00:00") is False
        assert _fixed_width(raws, len(STAMP), "+00:00") is True
        zulu = [STAMP[:-6] + "Z"] * size
        assert _fixed_width(zulu, len(zulu[0]), "Z") is True
        zulu[rng.randrange(size)] = STAMP[:-6] + "z"
        assert _fixed_width(zulu, len(zulu[0]), "Z") is False


def test_fixed_width_equals_its_definition_on_random_pages():
    rng = random.Random(11)
    zones = ["+00:00", "Z", "-05:30", "+00:00 "]
    for _ in range(3000):
        zone = rng.choice(zones)
        first = f"2025-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T0{rng.randint(0, 9)}:00:00.1{zone}"
        raws = [first]
        for _ in range(rng.randint(0, 12)):
            r = first
            k = rng.random()
            if k < 0.1:
                r = r.replace("T", rng.choice([" ", "t"]))
            elif k < 0.2:
                r = r[:-1] + rng.choice("Z0+ ")
            elif k < 0.3:
                r = r + rng.choice(["", "0", "Z"])
            elif k < 0.35:
                r = rng.choice([None, 3, 2.5, {}, [], ""])
            raws.append(r)
        z = first[-1] if first[-1] == "Z" else first[-6:]
        assert _fixed_width(raws, len(first), z) == _fixed_width_per_item(raws, len(first), z)


@pytest.mark.parametrize("raws", [
    [STAMP],
    [STAMP, "2025-01-02T03:04:06.000+00:00", "2025-01-02T03:04:06.000+00:00"],
    ["2025-01-02T03:04:07.000+00:00", STAMP, "2025-01-02T03:04:06.000+00:00"],  # not in order
    ["2025-01-02T03:04:05Z", "2025-01-02T03:04:04Z", "2025-01-02T03:04:09Z"],
    [STAMP, "2025-01-02T05:04:05.678+02:00"],  # same instant, another zone
    [STAMP, "2025-01-02T04:04:05.678+00:00", "2025-01-02T01:04:05.678-05:00"],
    [STAMP, None, "2025-01-02T03:04:04.678+00:00"],
    [None, STAMP],
    ["2025-01-02", STAMP],
    [],
])
def test_span_fast_and_general_agree(raws):
    assert _page_span(_page(raws)) == _span_per_item(_page(raws))
