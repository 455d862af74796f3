"""Live demo traffic: one new patient message per arrival.

``Simulator(seed).arrival(now, store_view)`` returns the resources for one arrival, either a
new thread for an existing patient (header + first message + Task) or a new patient message in
an existing open thread. ``store_view(resource_type, params) -> list[dict]`` is a search on the
server's store; the simulator makes only two kinds of call and caches their results:

- ``store_view("Patient", {})`` once (and again while the store has no patients);
- ``store_view("Communication", {"part-of:missing": "true", "status": "in-progress"})`` on the
  first arrival and every ``refresh_every`` arrivals after (threads it creates are added to the
  cache in between).

Resources come with client-assigned ids (store them with update-as-create) and are
deterministic for a given seed, sequence of ``now`` values and store contents.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime

from triage_tui.domain.codes import CATEGORY_SYSTEM, BusinessStatus, Category, Priority, TaskStatus
from triage_tui.server.synth import _common as C
from triage_tui.server.synth import phrases as P
from triage_tui.server.synth.people import PatientInfo, name_pools, patient_from_resource
from triage_tui.server.synth.practice import (
    HOSTILE_RATE,
    HostileDeck,
    base_context,
    patient_text_for,
    pick_urgent_kind,
)

StoreView = Callable[[str, dict], list[dict]]
OPEN_HEADERS = {"part-of:missing": "true", "status": "in-progress"}
SIM_URGENT_RATE = 0.05
NEW_THREAD_SHARE = 0.6


class Simulator:
    def __init__(self, seed: int, *, hostile: bool = True, refresh_every: int = 5) -> None:
        self.seed = seed
        self.rng = random.Random(f"triage-tui/synth/sim/{seed}")
        self.idrng = random.Random(f"triage-tui/synth/sim-ids/{seed}")
        self.delay_rng = random.Random(f"triage-tui/synth/sim-delay/{seed}")
        self.deck = HostileDeck(
            random.Random(f"triage-tui/synth/sim-hostile/{seed}"),
            HOSTILE_RATE * 2 if hostile else 0.0,
        )
        self.refresh_every = max(1, refresh_every)
        self._pools = None
        self._patients: list[PatientInfo] = []
        self._by_id: dict[str, PatientInfo] = {}
        self._headers: list[dict] = []
        self._arrivals = 0
        # Ground truth of what was generated (never in the FHIR).
        self.truth: dict[str, C.ThreadTruth] = {}  # new threads, by header id
        self.urgent_followups: dict[str, str] = {}  # message id -> urgent kind

    # -- public API ----------------------------------------------------------------------------
    def next_delay(self) -> float:
        """Seconds until the next arrival, in [20, 60]."""
        return self.delay_rng.uniform(20.0, 60.0)

    def arrival(self, now: datetime, store_view: StoreView) -> list[dict]:
        now = C.as_utc(now).replace(microsecond=0)
        if not self._patients:
            self._load_patients(store_view)
        if self._arrivals % self.refresh_every == 0:
            self._headers = [
                h
                for h in store_view("Communication", dict(OPEN_HEADERS))
                if not h.get("partOf") and not h.get("payload")
            ]
        self._arrivals += 1
        if not self._patients:
            return []
        if self._headers and self.rng.random() >= NEW_THREAD_SHARE:
            h = self.rng.choice(self._headers)
            pid = ((h.get("subject") or {}).get("reference") or "").removeprefix("Patient/")
            if pid in self._by_id:
                return self._followup(now, h, self._by_id[pid])
        return self._new_thread(now)

    # -- internals -----------------------------------------------------------------------------
    def _nid(self) -> str:
        return C.new_id(self.idrng)

    def _load_patients(self, store_view: StoreView) -> None:
        pts = [p for p in (patient_from_resource(r) for r in store_view("Patient", {})) if p]
        pts.sort(key=lambda p: p.id)  # independent of the store's result order
        self._patients = pts
        self._by_id = {p.id: p for p in pts}

    def _pools_(self) -> dict:
        if self._pools is None:
            self._pools = name_pools(self.seed)
        return self._pools

    def _recipient_for(self, pid: str) -> dict | None:
        """The patient's usual recipient, taken from one of their thread headers if any."""
        fallback = None
        for h in self._headers:
            rec = (h.get("recipient") or [None])[0]
            if not rec:
                continue
            if ((h.get("subject") or {}).get("reference")) == f"Patient/{pid}":
                return rec
            fallback = fallback or rec
        return fallback

    @staticmethod
    def _doc_name(recipient: dict | None) -> str:
        display = (recipient or {}).get("display") or ""
        return display.split()[-1] if display.split() else "Smith"

    def _new_thread(self, now: datetime) -> list[dict]:
        rng = self.rng
        p = rng.choice(self._patients)
        today = now.date()
        group = p.group(today)
        cats = list(C.CATEGORY_MIX)
        cat = rng.choices(cats, weights=[C.CATEGORY_MIX[c] for c in cats])[0]
        if group == "infant" and cat is Category.REFILL:
            cat = Category.CLINICAL
        urgent = rng.random() < (0.3 if group == "infant" else SIM_URGENT_RATE)
        kind = pick_urgent_kind(rng, group, p.age_days(today)) if urgent else None
        if urgent:
            priority = (
                rng.choice((Priority.URGENT, Priority.ASAP, Priority.STAT))
                if rng.random() < 0.5
                else Priority.ROUTINE
            )
        else:
            priority = Priority.URGENT if rng.random() < 0.04 else Priority.ROUTINE
        caregiver = group in ("infant", "child") or (group == "elderly" and rng.random() < 0.35)
        negated = not urgent and rng.random() < 0.05
        recipient = self._recipient_for(p.id)
        ctx = base_context(
            rng,
            p,
            lang=p.lang,
            caregiver=caregiver,
            doc=self._doc_name(recipient),
            now=now,
            pools=self._pools_(),
        )
        med = rng.choice(P.MEDS)
        ctx["med"] = patient_text_for(rng, p, med, p.lang)
        first = P.first_message(
            rng, p.lang, ctx, cat, urgent_kind=kind, negation=negated, caregiver=caregiver
        )
        text, hostile = self.deck.maybe(first.text)
        subject = self.deck.subject(first.subject) if hostile else first.subject

        hid, mid, tid = self._nid(), self._nid(), self._nid()
        header = C.header(
            hid,
            patient_id=p.id,
            patient_name=p.name,
            subject_line=subject,
            category=cat,
            priority=priority,
            sent=now,
            closed=False,
            recipient=recipient,
        )
        msg = C.message(
            mid,
            header_id=hid,
            patient_id=p.id,
            patient_name=p.name,
            category=cat,
            text=text,
            sender=C.ref("Patient", p.id, p.name),
            recipient=recipient,
            sent=now,
        )
        task = C.task(
            tid,
            header_id=hid,
            patient_id=p.id,
            patient_name=p.name,
            pool=C.pool_for(cat, priority),
            status=TaskStatus.REQUESTED,
            business_status=BusinessStatus.UNASSIGNED,
            priority=priority,
            authored=now,
            last_modified=now,
            due=C.due_for(now, cat, priority),
            description=f"Respond to patient message: {C.CATEGORY_DISPLAY[cat].lower()}",
        )
        self._headers.append(header)
        self.truth[hid] = C.ThreadTruth(
            thread_id=hid,
            task_id=tid,
            patient_id=p.id,
            category=cat,
            intents=(cat,),
            language=p.lang,
            urgent=urgent,
            urgent_kind=kind,
            urgent_keyword=first.urgent_keyword,
            negated=negated,
            history=False,
            caregiver=caregiver,
            priority=priority,
            closed=False,
            hostile=hostile,
            typo=first.typo,
            message_ids=(mid,),
        )
        return [header, msg, task]

    def _followup(self, now: datetime, h: dict, p: PatientInfo) -> list[dict]:
        rng = self.rng
        cat = Category.CLINICAL
        for cc in h.get("category") or []:
            for c in cc.get("coding") or []:
                if c.get("system") == CATEGORY_SYSTEM and c.get("code") in set(Category):
                    cat = Category(c["code"])
        recipient = (h.get("recipient") or [None])[0] or self._recipient_for(p.id)
        ctx = base_context(
            rng,
            p,
            lang=p.lang,
            caregiver=False,
            doc=self._doc_name(recipient),
            now=now,
            pools=self._pools_(),
        )
        mid = self._nid()
        if rng.random() < 0.08:
            kind = pick_urgent_kind(rng, p.group(now.date()), p.age_days(now.date()))
            utext, _ = rng.choice(P.URGENT[p.lang][kind])
            lead = "ahora" if p.lang == "es" else rng.choice(("now", "update:", "and now"))
            text = f"{lead} {P.fill(utext, ctx)}"
            self.urgent_followups[mid] = kind
        else:
            text = P.later_patient_message(
                rng, p.lang, ctx, rng.choice(("nudge", "nudge", "followup"))
            )
        text, _ = self.deck.maybe(text)
        # Never before the header (clock skew between the store and the caller).
        sent = max(now, _parse(h.get("sent")) or now)
        return [
            C.message(
                mid,
                header_id=h["id"],
                patient_id=p.id,
                patient_name=p.name,
                category=cat,
                text=text,
                sender=C.ref("Patient", p.id, p.name),
                recipient=recipient,
                sent=sent,
            )
        ]


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo is not None else None
