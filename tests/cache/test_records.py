"""The stored form of records: ``phi`` plaintexts are the bytes the standard JSON encoder writes
(readers and caches written by earlier versions rely on it), whichever encoder writes them."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import date
from enum import Enum

import pytest

from triage_tui.cache.records import BY_TABLE, SPECS
from triage_tui.domain.models import Medication, Observation, Patient

from .conftest import sample_records


def _reference(spec, rec) -> bytes:  # noqa: ANN001 - the encoding as first written
    if spec.raw_phi:
        return (getattr(rec, spec.phi[0]) or "").encode("utf-8")
    obj = {n: spec._enc[n](getattr(rec, n)) for n in spec.phi}
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _same(spec, rec) -> None:  # noqa: ANN001
    try:
        want = _reference(spec, rec)
    except Exception as exc:  # noqa: BLE001 - the same failure is expected
        with pytest.raises(type(exc)):
            spec.phi_bytes(rec)
        return
    assert spec.phi_bytes(rec) == want


def test_phi_bytes_of_the_sample_records():
    for rec in sample_records():
        _same(SPECS[type(rec)], rec)


class _Colour(Enum):
    RED = "red"


class _Str(str):
    pass


class _Int(int):
    pass


_TEXTS = ["", "plain", "quote \" and \\ backslash", "tab\tnew\nline\r", "\x00\x01\x1f\x7f",
          "\b\f", "é ü ß", "\u2028\u2029", "\U0001f600 emoji", "漢字", "\ufeffbom", "/slash/"]
_ODD = [
    1e-05, 9.999999999999999e-05, 1e-4, 1e16, 9999999999999998.0, 1e22, 5e-324, -0.0, 0.0,
    float("nan"), float("inf"), float("-inf"), 0.1, 123.456, -7.5, 2.0,
    2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**30,
    True, False, None, date(2001, 2, 3), _Colour.RED, _Str("sub"), _Int(3), ["a", 1.5], {"k": 1e-9},
    "lone \ud800 surrogate",
]


@pytest.mark.parametrize("value", _ODD, ids=repr)
def test_phi_bytes_of_odd_values_match_the_json_module(value):
    """Values a parser could hand over (whatever the annotations say): an exponent float
    ("1e-05" there, "0.00001" in orjson), an int beyond 64 bits, NaN, a subclass, a date left
    unconverted, a lone surrogate (both refuse it alike)."""
    rec = Observation("obs-x", "1", "pat-x", "Glucose", "5.1", reference_low=0.5)
    spec = SPECS[Observation]
    for field in ("reference_low", "value", "interpretation"):
        _same(spec, replace(rec, **{field: value}))
    _same(SPECS[Medication], Medication("med-x", "1", "pat-x", "name", refills_remaining=value))


def test_phi_bytes_of_random_records_match_the_json_module():
    rng = random.Random(7)
    alphabet = "".join(chr(c) for c in range(0x20)) + "azAZ09 \"\\/é€\u2028\U0001f600\x7f"

    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))

    def number() -> float:
        return rng.choice([rng.uniform(-1e3, 1e3), rng.uniform(0, 1) * 10.0 ** rng.randint(-12, 20),
                           round(rng.uniform(0, 500), rng.randrange(4)), float(rng.randrange(100))])

    for _ in range(3000):
        _same(SPECS[Observation], Observation(
            text(), "1", text(), text(), text(), text(), number(), number(),
            rng.choice([None, text()])))
        _same(SPECS[Patient], Patient(
            text(), "1", text(), text(), rng.choice([None, date(1930 + rng.randrange(90), 1, 1)]),
            text(), text(), rng.choice([None, text()])))
        _same(SPECS[Medication], Medication(
            text(), "1", text(), text(), text(), refills_remaining=rng.choice(
                [None, rng.randrange(-5, 5), rng.randrange(2**70)]), pharmacy=text()))


def test_every_table_has_a_generated_phi_function():
    for spec in BY_TABLE.values():
        if spec.phi:
            assert spec.phi_bytes.__code__.co_filename == f"<phi of {spec.table}>"


def test_encrypt_many_is_encrypt_in_bulk():
    """Each blob is what :meth:`FieldCipher.encrypt` writes for its row (format byte, a fresh
    nonce, AAD ``table|row|column``): it decrypts for its own row and column only."""
    import os

    from triage_tui.cache.crypto import DecryptError, FieldCipher

    c = FieldCipher(os.urandom(32))
    items = [(f"row-{i}é", f"text {i} \u2028".encode()) for i in range(50)] + [("", b"")]
    blobs = c.encrypt_many("messages", "phi", items)
    assert len(blobs) == len(items)
    assert len({b[1:13] for b in blobs}) == len(items)  # no nonce reused
    for (row_id, plain), blob in zip(items, blobs, strict=True):
        assert blob[0] == 1 and len(blob) == 1 + 12 + len(plain) + 16
        assert c.decrypt("messages", row_id, "phi", blob) == plain
        for table, rid, col in (("threads", row_id, "phi"), ("messages", row_id + "x", "phi"),
                                ("messages", row_id, "text")):
            with pytest.raises(DecryptError):
                c.decrypt(table, rid, col, blob)
    assert c.encrypt_many("messages", "phi", []) == []


def test_isoformat_column_is_isoformat():
    """The column form writes each datetime's isoformat(): in UTC through orjson, anything
    else (another zone, naive, a subclass, a date) one value at a time."""
    from datetime import datetime, timedelta, timezone

    from triage_tui.cache.records import isoformat_column

    class _Sub(datetime):
        def isoformat(self, *a, **k):  # noqa: ANN002, ANN003
            return "sub"

    rng = random.Random(3)
    utc = timezone.utc
    values = [datetime(1, 1, 1, tzinfo=utc), datetime(999, 5, 5, 1, 2, 3, 4, tzinfo=utc),
              datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=utc), None]
    for _ in range(5000):
        values.append(datetime(rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 28),
                               rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59),
                               rng.choice([0, 1, 500000, rng.randrange(10**6)]), tzinfo=utc,
                               fold=rng.randint(0, 1)))
    others = [datetime(2020, 1, 1, tzinfo=timezone(timedelta(seconds=37))),
              datetime(2020, 1, 1, tzinfo=timezone(timedelta(hours=-5))), datetime(2020, 1, 1),
              _Sub(2020, 1, 1, tzinfo=utc), date(2020, 1, 1)]
    for column in (values, [None, None], [], *([*values[:50], o] for o in others)):
        assert isoformat_column(list(column)) == [
            None if v is None else v.isoformat() for v in column]
    with pytest.raises(AttributeError):  # not a date: fails as isoformat() would
        isoformat_column([values[0], "2020-01-01"])


def test_rows_of_a_batch_are_the_rows_of_each_record():
    from datetime import datetime, timedelta, timezone

    recs = sample_records()
    odd = [datetime(2020, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))), datetime(2020, 1, 1),
           datetime(2020, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc), None]
    for rec in list(recs):
        for name in ("created", "updated", "sent", "due", "last_modified", "start", "effective"):
            if hasattr(rec, name):
                recs += [replace(rec, **{name: value}) for value in odd]
    by_spec: dict = {}
    for rec in recs:
        by_spec.setdefault(SPECS[type(rec)], []).append(rec)
    for spec, batch in by_spec.items():
        phis = [f"p{i}".encode() for i in range(len(batch))]
        assert spec.rows(batch, phis) == [spec.row(r, p) for r, p in zip(batch, phis)]
        for i in range(len(batch)):  # a zone other than UTC anywhere in the batch
            assert spec.rows(batch[i:i + 3], phis[i:i + 3]) == [
                spec.row(r, p) for r, p in zip(batch[i:i + 3], phis[i:i + 3])]
