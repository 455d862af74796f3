"""The command palette (ctrl+p), built from the command registry and the themes."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from triage_tui.actions import Command


class RegistryCommands(Provider):
    """Every command that applies on the screen the palette was opened from."""

    def _commands(self) -> list[tuple[str, Command]]:
        app = self.app
        out = []
        for cmd in app.commands_for_screen(self.screen):  # type: ignore[attr-defined]
            if cmd.id == "command_palette":
                continue
            keys = app.keys_for(cmd)  # type: ignore[attr-defined]
            out.append((f"{cmd.label} ({keys})" if keys else cmd.label, cmd))
        return out

    def _run(self, cmd: Command) -> None:
        self.app.run_command(cmd, self.screen)  # type: ignore[attr-defined]

    async def discover(self) -> Hits:
        for text, cmd in self._commands():
            yield DiscoveryHit(text, partial(self._run, cmd), help=cmd.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, cmd in self._commands():
            score = max(matcher.match(text), matcher.match(cmd.id))
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(self._run, cmd), text=text,
                          help=cmd.help)


class ThemeCommands(Provider):
    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name in sorted(self.app.available_themes):
            text = f"Theme: {name}"
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(setattr, self.app, "theme", name),
                          text=text, help="Switch to this colour theme.")
