"""No plaintext anywhere: the database, its -wal and -shm, temp files and logs are scanned for
every stored name, MRN, birth date, phone number and message text."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from pathlib import Path

from triage_tui.cache import open_store
from triage_tui.cache.api import Draft, OutboxItem, OutboxKind

from .conftest import PHI, PW, SERVER, USER, phi_needles, sample_records


def _files(*dirs: Path) -> list[Path]:
    return [p for d in dirs if d.exists() for p in d.rglob("*") if p.is_file()]


def _leaks(files: list[Path], extra: dict[str, bytes] | None = None) -> list[str]:
    found = []
    blobs = {str(p): p.read_bytes() for p in files}
    blobs.update(extra or {})
    for name, data in blobs.items():
        low = data.lower()
        for needle in phi_needles():
            if needle.lower() in low:
                found.append(f"{needle!r} in {name}")
    return found


def test_no_plaintext_on_disk_in_wal_temp_files_or_logs(tmp_path, monkeypatch, caplog):
    data_dir, tmp_dir, log_dir = tmp_path / "data", tmp_path / "tmp", tmp_path / "logs"
    tmp_dir.mkdir()
    log_dir.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_dir))
    monkeypatch.setenv("SQLITE_TMPDIR", str(tmp_dir))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_dir))
    handler = logging.FileHandler(log_dir / "triage.log")
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    try:
        s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
        s.upsert(sample_records())
        s.save_draft(Draft("thr-1", PHI["draft"]))
        s.enqueue([OutboxItem("reply-1", OutboxKind.REPLY, "Communication",
                              {"payload": [{"contentString": PHI["reply"]}],
                               "subject": {"display": "Zebulon Thistlewood"}},
                              thread_id="thr-0", last_error="Patient MRN-77813901 not found")])
        s.audit("view", user=USER, entity="Communication/thr-0",
                detail={"patient": "Zebulon Thistlewood", "mrn": "MRN-77813901"})
        s.set_meta("last_viewed_patient", "Quintessa Abernathy-Vex")
        assert s.search("thistlewood") == {"thr-0"}
        assert s.thread_display(["thr-0"])["thr-0"].patient_name == "Zebulon Thistlewood"
        # a new version: the old ciphertext lands in free pages, still only ciphertext
        assert s.upsert([replace(s.patient("pat-1"), version="2")]) == 1
        # before any checkpoint: the data is in the WAL
        wal = Path(f"{s.path}-wal")
        assert wal.exists() and wal.stat().st_size > 0
        assert Path(f"{s.path}-shm").exists()
        before = _files(data_dir, tmp_dir, log_dir)
        assert len(before) >= 3
        assert _leaks(before) == []
        s.close()
        handler.flush()
        after = _files(data_dir, tmp_dir, log_dir)
        assert _leaks(after, {"captured log": caplog.text.encode()}) == []
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()


def test_the_scan_would_find_plaintext(tmp_path):
    """The scanner itself works: a plaintext copy of one value is caught."""
    f = tmp_path / "leak.bin"
    f.write_bytes(b"xx" + PHI["mrn"][1].encode() + b"yy")
    assert _leaks([f])
