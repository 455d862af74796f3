"""Fixtures of the cache tests: fast KDF, hermetic keyring and environment, synthetic PHI."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

import keyring
import keyring.backend
import pytest
from keyring.backends import fail

from triage_tui.cache import crypto, keys, open_store
from triage_tui.domain.codes import BusinessStatus, Category, Pool, Priority, TaskStatus
from triage_tui.domain.models import (
    Appointment,
    Medication,
    Message,
    Observation,
    Patient,
    Practitioner,
    Task,
    Thread,
)

SERVER = "https://fhir.test.invalid/R4"
USER = "nurse-1"
PW = "correct horse battery staple"


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 10

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):  # noqa: ANN001
        return self.store.get((service, username))

    def set_password(self, service, username, password):  # noqa: ANN001
        self.store[(service, username)] = password

    def delete_password(self, service, username):  # noqa: ANN001
        del self.store[(service, username)]


class HangingKeyring(MemoryKeyring):
    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service, username):  # noqa: ANN001
        self.release.wait(30)
        return None

    def set_password(self, service, username, password):  # noqa: ANN001
        self.release.wait(30)


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch, tmp_path):
    monkeypatch.setattr(crypto, "DEFAULT_SCRYPT", crypto.ScryptParams(n=2**10, r=8, p=1))
    monkeypatch.delenv(keys.ENV_PASSPHRASE, raising=False)
    monkeypatch.delenv(keys.ENV_PASSPHRASE_FILE, raising=False)
    monkeypatch.setenv("TRIAGE_TUI_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(keys, "KEYRING_TIMEOUT", 0.5)
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def mem_keyring(monkeypatch):
    kr = MemoryKeyring()
    monkeypatch.setattr(keys, "SAFE_BACKEND_MODULES", (*keys.SAFE_BACKEND_MODULES, __name__))
    keyring.set_keyring(kr)
    return kr


@pytest.fixture
def hanging_keyring(monkeypatch):
    kr = HangingKeyring()
    monkeypatch.setattr(keys, "SAFE_BACKEND_MODULES", (*keys.SAFE_BACKEND_MODULES, __name__))
    keyring.set_keyring(kr)
    yield kr
    kr.release.set()


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def store(data_dir):
    s = open_store(SERVER, USER, passphrase=PW, data_dir=data_dir)
    yield s
    s.close()


T0 = datetime(2025, 3, 4, 9, 30, tzinfo=timezone.utc)

# Distinctive synthetic PHI: every value below must never appear in plaintext on disk.
PHI = {
    "given": ["Zebulon", "Quintessa", "Marisol"],
    "family": ["Thistlewood", "Abernathy-Vex", "Ñandúbay"],
    "mrn": ["MRN-77813901", "MRN-55120347", "MRN-90031178"],
    "birth": [date(1961, 7, 23), date(1984, 2, 29), date(1999, 11, 5)],
    "phone": ["+1-555-0142", "+1-555-0199", "+52-55-0100-7777"],
    "subject": ["Refill of lisinoprilxq please", "Rash after ozempicqz", "Resultado de glucosaxz"],
    "text": [
        "My lisinoprilxq bottle is empty since Tuesday, pharmacy Walgrobe on Main",
        "I have a burning rash after the ozempicqz shot, should I stop",
        "¿Mi glucosaxz de ayer salió alta? Me siento mareado desde anoche",
    ],
    "reply": "Dear Zebulon, your lisinoprilxq refill was sent to Walgrobe today.",
    "draft": "Draft answer about the ozempicqz rash for Quintessa",
    "med": "Lisinoprilxq 20 mg tablet",
    "obs": "Glucosaxz fasting",
}


def sample_records() -> list:
    out: list = [Practitioner("prac-1", "1", "Dr. Harkonnenby", Pool.PROVIDER)]
    for i in range(3):
        pid, tid = f"pat-{i}", f"thr-{i}"
        out.append(Patient(pid, "1", PHI["given"][i], PHI["family"][i], PHI["birth"][i],
                           PHI["mrn"][i], "es" if i == 2 else "en", PHI["phone"][i]))
        out.append(Thread(tid, "1", pid, PHI["subject"][i], list(Category)[i], Priority.URGENT,
                          created=T0 + timedelta(hours=i)))
        out.append(Message(f"msg-{i}-a", "1", tid, PHI["text"][i], T0 + timedelta(hours=i, minutes=1),
                           f"Patient/{pid}"))
        out.append(Task(f"task-{i}", "1", tid, pid, Pool.NURSING, TaskStatus.REQUESTED,
                        BusinessStatus.UNASSIGNED, Priority.URGENT, None,
                        T0 + timedelta(days=1), T0))
    out.append(Message("msg-0-b", "1", "thr-0", PHI["reply"], T0 + timedelta(hours=2),
                       "Practitioner/prac-1", in_response_to="msg-0-a"))
    out.append(Medication("med-1", "1", "pat-0", PHI["med"], "1 daily", "active", 2, "Walgrobe",
                          T0))
    out.append(Appointment("app-1", "1", "pat-1", T0 + timedelta(days=3), "booked",
                           "Follow-up on ozempicqz rash", "Dr. Harkonnenby"))
    out.append(Observation("obs-1", "1", "pat-2", PHI["obs"], "187", "mg/dL", 70, 99, "H", T0))
    return out


def phi_needles() -> list[bytes]:
    vals: list[str] = []
    for k in ("given", "family", "mrn", "phone", "subject", "text"):
        vals += PHI[k]
    vals += [b.isoformat() for b in PHI["birth"]]
    vals += [PHI["reply"], PHI["draft"], PHI["med"], PHI["obs"], "Walgrobe", "Harkonnenby"]
    needles = []
    for v in vals:
        for enc in ("utf-8", "utf-16-le"):
            needles.append(v.encode(enc))
        # also a distinctive fragment, in case a value is stored split or re-encoded
        needles.append(v[:10].encode("utf-8"))
    return needles
