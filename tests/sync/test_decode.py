"""Response bodies decode to what the standard JSON parser gives, whichever parser read them
(lone surrogates aside: see test_hostile_json.py)."""

from __future__ import annotations

import json

import pytest

from triage_tui.sync.client import _decode


@pytest.mark.parametrize("body", [
    b'{"resourceType": "Bundle", "entry": [{"resource": {"id": "a", "text": "caf\\u00e9 \\ud83d\\ude00"}}]}',
    b'{"value": NaN, "other": -Infinity}',             # not JSON, but the standard parser's answer
    b'{"k": 1, "k": 2}',                               # a duplicate key: the last one
    b'{"f": 0.1, "g": 1e400, "h": -0.0}',
    b'{"t": "\\u00e9\\u202e\\u001b[2J\\u0000"}',  # hostile text stays text
    b'[1, 2, 3]',
])
def test_decodes_like_the_standard_parser(body):
    assert repr(_decode(body)) == repr(json.loads(body))


@pytest.mark.parametrize("body", [b"", b"{not json", b"\xff\xfe", b'{"a": 1', b"<html>502</html>"])
def test_no_json_is_none(body):
    assert _decode(body) is None


def test_an_integer_over_64_bits_is_a_float():
    """The one difference: no FHIR integer is that big (integer is 32-bit, integer64 64-bit),
    and the mapping reads a number where it wants an int with ``isinstance(v, int)``."""
    assert _decode(b'{"n": 123456789012345678901234567890}') == {"n": 1.2345678901234568e29}
    assert _decode(b'{"n": 9223372036854775807}') == {"n": 9223372036854775807}
