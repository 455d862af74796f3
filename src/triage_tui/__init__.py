"""triage-tui: keyboard-driven triage of secure patient messages."""

__version__ = "0.1.0"
