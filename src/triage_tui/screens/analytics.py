"""Analytics: is the inbox keeping its promises? Charts, and the same numbers as a table.

Tabs choose the range (7, 30, 90 days; left/right arrows) and the view: charts drawn with
block characters (:mod:`triage_tui.widgets.charts`), or a table of every number (the rows of
``triage-tui report``) for screen readers and 16-colour terminals. The cache is read once (plain
metadata, :mod:`triage_tui.cache.reports`) in a worker thread; changing the range recomputes
from memory.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import ContentSwitcher, DataTable, Footer, Static, Tab, Tabs

from triage_tui.actions import SUBSCREEN, bindings_for
from triage_tui.domain import analytics as an
from triage_tui.errors import UserError
from triage_tui.screens.session import Session
from triage_tui.widgets.charts import (
    Chart,
    ChartGlyphs,
    Styles,
    bucket,
    column_chart,
    fmt_hours,
    hbars,
    range_bars,
    sparkline,
    stacked_bars,
)
from triage_tui.widgets.glyphs import ASCII as ASCII_GLYPHS
from triage_tui.widgets.status_bar import StatusBar

DEFAULT_DAYS = 30
MAX_STAFF = 10
TABLE_COLUMNS = ("Figure", "Group", "Key", "Day / age", "Value", "Unit")
FIGURE_NAMES = {
    "volume": "Patient messages",
    "response_threads": "Threads arrived",
    "response_answered": "Threads answered",
    "response_median": "Response median",
    "response_p90": "Response p90",
    "breach_threads": "Threads checked",
    "breaches": "Breaches",
    "breaches_open": "Breaches open",
    "backlog": "Open backlog",
    "backlog_unassigned": "Open, unclaimed",
    "replies": "Staff replies",
}
"""Short names of the figures of ``report_rows`` (the CSV keeps the ids)."""


def _pct(n: int, d: int) -> str:
    return f"{round(100 * n / d)}%" if d else "-"


# --------------------------------------------------------------------------- chart drawings
def volume_chart(rep: an.Report, height: int):
    def draw(width: int, g: ChartGlyphs, st: Styles) -> Text:
        total = sum(rep.volume.total)
        head = Text(f"{total} patient messages, {total / len(rep.days):.1f} a day\n", st.note)
        return head + column_chart(rep.volume.total, rep.days, width, height, g, st)
    return draw


def small_multiples(table: dict[str, tuple[int, ...]]):
    """One sparkline per category (or pool), all on the same scale, with its total."""
    def draw(width: int, g: ChartGlyphs, st: Styles) -> Text:
        if not table:
            return Text("no messages", st.note)
        lw = max(len(k) for k in table)
        totals = {k: sum(v) for k, v in table.items()}
        nw = max(len(str(t)) for t in totals.values())
        n = len(next(iter(table.values())))
        room = max(4, width - lw - nw - 3)
        cw = max(1, min(6, room // max(1, n)))  # a few days: wider cells, as the columns
        vals = {k: bucket(v, room)[0] if cw == 1 else list(v) for k, v in table.items()}
        top = max((max(v, default=0) for v in vals.values()), default=0)
        text = Text(no_wrap=True, overflow="crop")
        for i, k in enumerate(sorted(table, key=lambda k: -totals[k])):
            if i:
                text.append("\n")
            text.append(k.ljust(lw) + " ", st.label)
            line = sparkline(vals[k], len(vals[k]), g, top=top)
            if cw > 1:
                line = "".join(ch * (cw - 1) + " " for ch in line)
            text.append(line, st.bar)
            text.append(f" {totals[k]:>{nw}}", st.note)
        return text
    return draw


def response_chart(rep: an.Report):
    def draw(width: int, g: ChartGlyphs, st: Styles) -> Text:
        rows = []
        for k, s in rep.response.items():
            note = (f"{fmt_hours(s.median_h)} / {fmt_hours(s.p90_h)}  {s.answered}/{s.threads}"
                    if s.threads else "no threads")
            rows.append((k, s.median_h, s.p90_h, note))
        legend = Text(f"{g.bars[8]} median  {g.range} to 90th percentile  "
                      "(answered/threads)\n", st.note)
        return legend + range_bars(rows, width, g, st)
    return draw


def breach_chart(rep: an.Report):
    def draw(width: int, g: ChartGlyphs, st: Styles) -> Text:
        b = rep.breaches
        lw = max((len(k) for k in (*b.by_category, *b.by_pool)), default=3)
        text = Text(f"{g.bars[8]} answered late or still overdue\n", st.note)

        def part(title: str, table: dict[str, an.BreachCount]) -> Text:
            items = [(k, c.rate or 0.0, f"{c.breached}/{c.threads} {_pct(c.breached, c.threads):>4}"
                      + (f", {c.open_breached} open" if c.open_breached else ""))
                     for k, c in table.items()]
            t = Text(title + "\n", st.label)
            return t + hbars(items, width, g, st, label_width=lw, scale=1.0,
                             note_width=max((len(n) for _, _, n in items), default=0))

        text += part("by category", b.by_category)
        text += Text("\n")
        text += part("by pool", b.by_pool)
        total = b.total
        text += Text(f"\nall: {total.breached} of {total.threads} "
                     f"({_pct(total.breached, total.threads)})", st.note)
        return text
    return draw


def backlog_chart(rep: an.Report):
    def draw(width: int, g: ChartGlyphs, st: Styles) -> Text:
        k = rep.backlog
        labels = [label for label, _ in an.AGE_BUCKETS]
        legend = Text("  ".join(f"{g.stack[i]} {lab}" for i, lab in enumerate(labels)) + "\n",
                      st.note)
        if not k.by_pool:
            return legend + Text("no open threads", st.note)
        rows = [(pool, counts, str(sum(counts))) for pool, counts in
                sorted(k.by_pool.items(), key=lambda kv: -sum(kv[1]))]
        text = legend + stacked_bars(rows, width, g, st)
        text += Text(f"\n{sum(k.total)} open, {k.unassigned} unclaimed", st.note)
        return text
    return draw


def staff_chart(rep: an.Report):
    def draw(width: int, g: ChartGlyphs, st: Styles) -> Text:
        if not rep.staff:
            return Text("no staff replies in range", st.note)
        n = len(rep.days)
        items = [(rep.staff_name(ref), sum(v), f"{sum(v)}  {sum(v) / n:.1f}/day")
                 for ref, v in list(rep.staff.items())[:MAX_STAFF]]
        text = hbars(items, width, g, st)
        if len(rep.staff) > MAX_STAFF:
            text += Text(f"\n+{len(rep.staff) - MAX_STAFF} more (see the table)", st.note)
        return text
    return draw


# --------------------------------------------------------------------------- the screen
REFRESH_SECONDS = 30.0


class AnalyticsScreen(Screen[None]):
    BINDINGS = bindings_for(SUBSCREEN)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    DEFAULT_CSS = """
    AnalyticsScreen #banner { height: 1; background: $panel; padding: 0 1; }
    AnalyticsScreen #choosers { height: 2; }
    AnalyticsScreen #range { width: 28; }
    AnalyticsScreen #view { width: 1fr; margin-left: 2; }
    AnalyticsScreen #views { height: 1fr; }
    AnalyticsScreen #charts { height: 1fr; }
    AnalyticsScreen #grid { height: auto; grid-gutter: 0 1; padding: 0 1; }
    AnalyticsScreen.-wide #grid { grid-size: 2; grid-columns: 1fr 1fr; }
    AnalyticsScreen.-narrow #grid { grid-size: 1; }
    AnalyticsScreen .panel { height: auto; border: round $foreground-muted; padding: 0 1;
                             border-title-color: $foreground; }
    AnalyticsScreen .panel > .sub { color: $foreground-muted; height: 1; }
    AnalyticsScreen.-wide #p-volume { column-span: 2; }
    AnalyticsScreen #table { height: 1fr; }
    AnalyticsScreen #message { padding: 1 2; display: none; }
    AnalyticsScreen #message.-shown { display: block; }
    """

    def __init__(self, session: Session, *, rules=None, days: int = DEFAULT_DAYS,
                 loader=None) -> None:
        super().__init__()
        self.session = session
        self.rules = rules
        self.days = days if days in an.RANGES else DEFAULT_DAYS
        self.loader = loader  # (store, since) -> facts; default cache.reports.load_facts
        self.facts: list[an.ThreadFact] | None = None
        self.report: an.Report | None = None
        self.names: dict[str, str] = {}
        self.stale = False  # a sync changed threads since the figures were read

    @property
    def ascii_only(self) -> bool:
        return self.session.glyphs is ASCII_GLYPHS

    def compose(self) -> ComposeResult:
        yield Static("Inbox analytics: loading…", id="banner", markup=False)
        with Horizontal(id="choosers"):
            yield Tabs(*(Tab(f"{d} days", id=f"d{d}") for d in an.RANGES),
                       active=f"d{self.days}", id="range")
            yield Tabs(Tab("Charts", id="v-charts"), Tab("Table", id="v-table"), id="view")
        with ContentSwitcher(id="views", initial="charts"):
            with VerticalScroll(id="charts"):
                yield Static("", id="message", markup=False)
                with Grid(id="grid"):
                    yield self._panel("p-volume", "Patient messages per day",
                                      Chart(id="c-volume", ascii_only=self.ascii_only),
                                      Static("by category", classes="sub"),
                                      Chart(id="c-cat", ascii_only=self.ascii_only),
                                      Static("by pool", classes="sub"),
                                      Chart(id="c-pool", ascii_only=self.ascii_only))
                    yield self._panel("p-response", "Time to first staff response "
                                      "(business hours)", Chart(id="c-response",
                                                                ascii_only=self.ascii_only))
                    yield self._panel("p-breach", "Response-time breaches",
                                      Chart(id="c-breach", ascii_only=self.ascii_only))
                    yield self._panel("p-backlog", "Open backlog by pool and age (now)",
                                      Chart(id="c-backlog", ascii_only=self.ascii_only))
                    yield self._panel("p-staff", "Replies per staff member",
                                      Chart(id="c-staff", ascii_only=self.ascii_only))
            yield DataTable(id="table", zebra_stripes=True, cursor_type="row")
        yield StatusBar(self.session.user_label, self.session.glyphs, self.session.clock,
                        state=getattr(self.app, "sync_state", None), id="status")
        yield Footer(compact=True, show_command_palette=False)

    @staticmethod
    def _panel(id: str, title: str, *children) -> Vertical:
        panel = Vertical(*children, id=id, classes="panel")
        panel.border_title = title
        return panel

    def on_mount(self) -> None:
        table = self.query_one("#table", DataTable)
        for label in TABLE_COLUMNS:
            table.add_column(label, key=label)
        self.query_one("#range", Tabs).focus()
        self.load()
        # New messages keep arriving while the screen is open: read the figures again when a
        # sync changed something, at most every REFRESH_SECONDS (one read of 90 days of facts).
        self.set_interval(REFRESH_SECONDS, self._refresh_if_stale)

    def data_changed(self) -> None:
        """A sync changed threads (called by the app)."""
        self.stale = True

    def _refresh_if_stale(self) -> None:
        if self.stale and self.is_current:
            self.stale = False
            self.load()

    # --- data ---------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="analytics",
          description="read the analytics figures from the cache")
    def load(self) -> None:
        """Read the facts of the longest range once, then compute the current range."""
        from triage_tui.cache.reports import load_facts, staff_names

        try:
            audit = getattr(self.session.store, "audit", None)
            if audit is not None:  # issue 8/9: every access is audited (no PHI: a screen name)
                audit("view", user=self.session.user_ref, entity="analytics")
            rules = self._rules()
            now = self.session.clock()
            since = an.Window.last_days(now, max(an.RANGES), rules.calendar.timezone).start
            facts = (self.loader or load_facts)(self.session.store, since)
            rep = an.compute(facts, now=now, days=self.days, rules=rules)
            names = staff_names(self.session.store, rep.staff)
        except UserError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.facts = facts
        self.names = names
        self.app.call_from_thread(self.show_report, dataclasses.replace(rep, staff_names=names))

    @work(thread=True, exclusive=True, group="analytics",
          description="compute the analytics figures")
    def recompute(self) -> None:
        if self.facts is None:
            return
        rules = self._rules()
        rep = an.compute(self.facts, now=self.session.clock(), days=self.days, rules=rules)
        missing = set(rep.staff) - set(self.names)
        if missing:
            from triage_tui.cache.reports import staff_names

            self.names.update(staff_names(self.session.store, missing))
        self.app.call_from_thread(self.show_report,
                                  dataclasses.replace(rep, staff_names=dict(self.names)))

    def _rules(self):
        if self.rules is None:
            from triage_tui.domain.triage import load_rules

            self.rules = load_rules()
        return self.rules

    def _failed(self, message: str) -> None:
        self.query_one("#banner", Static).update(Text("Inbox analytics: not available",
                                                      style="bold"))
        msg = self.query_one("#message", Static)
        msg.update(Text(message))
        msg.add_class("-shown")

    # --- drawing ------------------------------------------------------------------------------
    def show_report(self, rep: an.Report) -> None:
        self.report = rep
        days = rep.days
        cal = self._rules().calendar
        self.query_one("#banner", Static).update(Text.assemble(
            ("Inbox analytics  ", "bold"),
            f"{days[0]:%d %b} - {days[-1]:%d %b %Y} · business hours, clinic time "
            f"{cal.timezone.key}",
        ))
        narrow = self.size.width < 110
        self.query_one("#c-volume", Chart).show(volume_chart(rep, 3 if narrow else 5))
        self.query_one("#c-cat", Chart).show(small_multiples(rep.volume.by_category))
        self.query_one("#c-pool", Chart).show(small_multiples(rep.volume.by_pool))
        self.query_one("#c-response", Chart).show(response_chart(rep))
        self.query_one("#c-breach", Chart).show(breach_chart(rep))
        self.query_one("#c-backlog", Chart).show(backlog_chart(rep))
        self.query_one("#c-staff", Chart).show(staff_chart(rep))
        self._fill_table(an.report_rows(rep))

    def _fill_table(self, rows: Sequence[dict[str, object]]) -> None:
        table = self.query_one("#table", DataTable)
        table.clear()
        table.add_rows(
            (FIGURE_NAMES.get(str(r["figure"]), str(r["figure"])), str(r["group"]),
             str(r["key"]), str(r["day"]), "-" if r["value"] is None else str(r["value"]),
             str(r["unit"]))
            for r in rows)

    # --- events and actions -------------------------------------------------------------------
    @on(Tabs.TabActivated, "#view")
    def view_chosen(self, event: Tabs.TabActivated) -> None:
        self.query_one("#views", ContentSwitcher).current = str(event.tab.id).removeprefix("v-")

    @on(Tabs.TabActivated, "#range")
    def range_chosen(self, event: Tabs.TabActivated) -> None:
        days = int(str(event.tab.id).removeprefix("d"))
        if days != self.days:
            self.days = days
            self.recompute()

    def action_back(self) -> None:
        self.dismiss()

