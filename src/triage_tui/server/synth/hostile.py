"""Texts real inboxes receive and a terminal UI must survive.

Each one is something a patient portal can deliver verbatim: console markup that Rich/Textual
would interpret, terminal escape sequences (CSI, OSC 8 hyperlinks, OSC 52 clipboard writes,
DCS), C1 controls, bidi overrides, a NUL, a very long message, emoji, right-to-left scripts.
The UI must show them as inert text (DESIGN.md, "Untrusted text").

Note: strict FHIR R4 forbids code points below U+0020 other than tab, CR and LF in ``string``
values, so a strict server (HAPI) rejects the NUL/ESC ones; the reference server keeps them to
exercise the client. ``generate_practice(..., hostile=False)`` leaves them all out.
"""

from __future__ import annotations

_LONG_UNIT = "I need my refill and nobody calls me back. "
LONG_MESSAGE = ("Please read all of this. " + _LONG_UNIT * 500)[: 20 * 1024]

HOSTILE_TEXTS: list[str] = [
    # Rich / Textual console markup.
    "[bold red]URGENT[/bold red] please call me back [/]",
    "[@click=app.quit]click here[/] to see my pharmacy info",
    "my insurance portal: [link=https://example.invalid]x[/link] thanks",
    "Hi [dim]doctor[/dim], my A1c was [reverse]9.1[/reverse] [/] [blink]help",
    # ANSI CSI: colour, clear screen, cursor moves.
    "\x1b[31mred text\x1b[0m and \x1b[2J\x1b[H cleared your screen",
    # OSC 8 hyperlink and OSC 52 clipboard write (base64 of "echo hi").
    "see \x1b]8;;https://example.invalid/phish\x1b\\my results here\x1b]8;;\x1b\\ ok",
    "refill please\x1b]52;c;ZWNobyBoaQ==\x07 thank you",
    # DCS (7-bit and 8-bit introducers).
    "thanks\x1bP1$r0m\x1b\\ doctor \x90q\x9c",
    # C1 controls: 8-bit CSI, NEL, OSC, and the rest of the range.
    "question about \x9b31mbilling\x9b0m\x85next line\x9d0;title\x9c",
    # Bidi override: reads "refill for exe.pdf" on screen.
    "refill for \u202efdp.exe\u202c please \u2066isolated\u2069 \u200fRLM",
    # A NUL in the middle.
    "my pharmacy\x00 is closed on sundays",
    # A 20 KB message.
    LONG_MESSAGE,
    # Emoji, skin tones, ZWJ sequences, flags.
    "Thanks so much \U0001f64f\U0001f60a my \U0001f476 is better \U0001f44d\U0001f3fd "
    "\U0001f468\u200d\U0001f469\u200d\U0001f467 \U0001f1f2\U0001f1fd",
    # Right-to-left scripts (Arabic, Hebrew), mixed with Latin.
    "\u0645\u0631\u062d\u0628\u0627\u060c \u0623\u062d\u062a\u0627\u062c \u0625\u0644\u0649 "
    "\u0625\u0639\u0627\u062f\u0629 \u0635\u0631\u0641 metformin 500 mg \u0645\u0646 "
    "\u0641\u0636\u0644\u0643",
    "\u05e9\u05dc\u05d5\u05dd, \u05d0\u05e0\u05d9 \u05e6\u05e8\u05d9\u05da \u05de\u05e8\u05e9\u05dd "
    "\u05d7\u05d5\u05d6\u05e8 \u05d1\u05d1\u05e7\u05e9\u05d4 (lisinopril 10 mg)",
]

# Short ones that are also fine in a subject line.
HOSTILE_SUBJECTS: list[str] = [
    "[bold red]URGENT[/]",
    "refill \x1b[5mnow\x1b[0m",
    "re: \u202etluser\u202c",
    "[@click=app.quit]appt[/]",
    "\U0001f48a refill \U0001f48a",
]
