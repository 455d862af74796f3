"""``:`` command line: a command id (or a unique prefix), maybe an argument; tab completes both.

``:route pharmacy``, ``:category refill``, ``:theme triage-light``, ``:search chest pain``. A
command takes an argument when its registry entry names one (``Command.argument``); the values
tab offers come from ``Command.choices`` (see :func:`triage_tui.actions.argument_choices`), and
a command whose argument has choices refuses any other value. Free-text arguments (``search``)
are taken as typed.

The screen returns an :class:`Invocation`; the app runs it on the screen below. Only commands
that apply there are offered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from triage_tui.actions import Command, common_prefix, complete

ChoicesFn = Callable[[Command], Sequence[str]]


@dataclass(frozen=True, slots=True)
class Invocation:
    command: Command
    argument: str | None = None


def _no_choices(command: Command) -> Sequence[str]:
    return ()


def _common(words: Sequence[str]) -> str:
    if not words:
        return ""
    first, last = min(words), max(words)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


class CommandLine(ModalScreen[Invocation | None]):
    BINDINGS = [
        Binding("tab", "complete", "Complete", priority=True, show=False),
        Binding("escape,ctrl+g", "cancel", "Cancel", show=False),
    ]
    DEFAULT_CSS = """
    CommandLine { align: left bottom; background: $background 0%; }
    CommandLine > #hint { height: auto; max-height: 8; width: 100%; background: $panel;
                          padding: 0 1; }
    CommandLine > Input, CommandLine > Input:focus { width: 100%; border: none; height: 1;
                                                   padding: 0 0; background: $panel; }
    """

    def __init__(self, commands: list[Command], choices: ChoicesFn = _no_choices) -> None:
        super().__init__()
        self.commands = commands
        self.choices = choices

    def compose(self) -> ComposeResult:
        yield Static("", id="hint", markup=False)
        yield Input(placeholder="command [argument] (tab completes, enter runs)", id="command")

    def on_mount(self) -> None:
        self.app.quiet_cursors(self)  # type: ignore[attr-defined]
        self.query_one("#hint").display = False
        inp = self.query_one(Input)
        inp.value = ":"
        inp.cursor_position = 1
        inp.focus()

    # --- parsing ------------------------------------------------------------------------------
    def _parts(self) -> tuple[str, str | None]:
        """(command word, argument text or None when no space was typed yet)."""
        text = self.query_one(Input).value.lstrip(":").lstrip()
        word, sep, rest = text.partition(" ")
        return word, (rest.strip() if sep else None)

    def _command(self, word: str) -> Command | None:
        matches = complete(word, self.commands)
        return matches[0] if len(matches) == 1 else None

    def _arg_matches(self, command: Command, typed: str) -> list[str]:
        values = list(self.choices(command))
        low = typed.lower()
        exact = [v for v in values if v.lower() == low]
        return exact or [v for v in values if v.lower().startswith(low)]

    def _hint(self, text: str) -> None:
        hint = self.query_one("#hint", Static)
        hint.update(text)
        hint.display = bool(text)

    def _usage(self, command: Command) -> str:
        values = list(self.choices(command))
        arg = f" [{command.argument}]" if command.argument else ""
        line = f"{command.id}{arg}: {command.help}"
        if values:
            line += "\n" + "  ".join(values[:30])
        return line

    # --- events -------------------------------------------------------------------------------
    @on(Input.Changed)
    def changed(self, event: Input.Changed) -> None:
        word, arg = self._parts()
        if not word:
            self._hint("")
            return
        if arg is None:
            matches = complete(word, self.commands)
            self._hint("  ".join(c.id for c in matches[:20]) if matches else "no such command")
            return
        command = self._command(word)
        if command is None:
            self._hint(f"no command '{word}' here")
        elif not command.argument:
            self._hint(f"{command.id} takes no argument")
        elif self.choices(command):
            values = self._arg_matches(command, arg)
            self._hint("  ".join(values[:30]) if values
                       else f"no {command.argument} '{arg}' ({self._usage(command)})")
        else:
            self._hint(self._usage(command))

    def action_complete(self) -> None:
        word, arg = self._parts()
        inp = self.query_one(Input)
        if arg is None:
            matches = complete(word, self.commands)
            if not matches:
                return
            if len(matches) == 1:
                command = matches[0]
                inp.value = ":" + command.id + (" " if command.argument else "")
                if command.argument:
                    self._hint(self._usage(command))
            else:
                inp.value = ":" + common_prefix(matches)
        else:
            command = self._command(word)
            if command is None or not command.argument:
                return
            values = self._arg_matches(command, arg)
            if not values:
                return
            done = values[0] if len(values) == 1 else _common(values) or arg
            inp.value = f":{command.id} {done}"
        inp.cursor_position = len(inp.value)

    @on(Input.Submitted)
    def submit(self) -> None:
        word, arg = self._parts()
        if not word:
            self.dismiss(None)
            return
        matches = complete(word, self.commands)
        if not matches:
            self._hint(f"no command '{word}' here ({len(self.commands)} commands: tab lists)")
            return
        if len(matches) > 1:
            self._hint("ambiguous: " + "  ".join(c.id for c in matches[:20]))
            return
        command = matches[0]
        if not arg:
            self.dismiss(Invocation(command))
            return
        if not command.argument:
            self._hint(f"{command.id} takes no argument")
            return
        if self.choices(command):
            values = self._arg_matches(command, arg)
            if len(values) != 1:
                self._hint(("ambiguous: " + "  ".join(values)) if values
                           else f"no {command.argument} '{arg}'. {self._usage(command)}")
                return
            arg = values[0]
        self.dismiss(Invocation(command, arg))

    def action_cancel(self) -> None:
        self.dismiss(None)
