"""Canary PHI shared by the security tests."""

from __future__ import annotations

# Canary PHI: distinctive synthetic values that must never appear in logs, reports or output.
CANARY = {
    "given": "Quillonia",
    "family": "Vandersnoot",
    "mrn": "MRN-31415926",
    "text": "Canary: my zorbaxamine 40 mg made me dizzy since Tuesday",
    "subject": "Zorbaxamine refill for Quillonia",
}
CANARY_NEEDLES = ["Quillonia", "Vandersnoot", "31415926", "zorbaxamine", "Zorbaxamine"]
