"""A terminal that goes away (dropped SSH link, closed window, killed tmux): the app exits.

The real thing: the app in a pseudo-terminal whose other end is closed (the kernel sends SIGHUP
and SIGCONT, and writes fail with EIO), and the parts that make it exit (triage_tui.terminal)."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from triage_tui import terminal

posix_pty = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


def _read_until(fd: int, needle: bytes, seconds: float) -> bytes:
    import select

    seen = b""
    end = time.monotonic() + seconds
    while needle not in seen and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


@posix_pty
def test_demo_exits_when_its_terminal_hangs_up_mid_redraw(tmp_path):
    """Keys make the app redraw; the terminal goes away before the redraw is written. Before
    triage_tui.terminal, Textual's output thread died on EIO, its SIGCONT handler restarted the
    dead terminal, the exit blocked on a full output queue and the process stayed forever."""
    import pty

    env = {k: v for k, v in os.environ.items() if k != "COLORTERM"}
    env.update(TERM="xterm", TRIAGE_TUI_HOME=str(tmp_path / "home"), COLUMNS="80", LINES="24")
    pid, master = pty.fork()
    if pid == 0:  # the child: the app on the pseudo-terminal, a session of its own
        try:
            os.execve(sys.executable, [sys.executable, "-m", "triage_tui", "demo",
                                       "--threads", "40", "--interval", "60"], env)
        finally:
            os._exit(127)
    try:
        shown = _read_until(master, b"outbox", 60)
        assert b"outbox" in shown, shown[-500:]  # the inbox and its status bar are up
        for _ in range(3):
            os.write(master, b"jjjj")  # moves the cursor: the app redraws
        os.close(master)  # the terminal goes away: SIGHUP, SIGCONT, EIO
        master = -1
        end = time.monotonic() + 20
        status = None
        while time.monotonic() < end:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the app did not exit after its terminal hung up")
        assert status is not None
    finally:
        if master >= 0:
            os.close(master)
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


class _GoneTerminal:
    def __init__(self) -> None:
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        raise OSError(5, "Input/output error")

    def flush(self) -> None:
        raise OSError(5, "Input/output error")


def test_writer_keeps_taking_writes_after_the_terminal_is_gone():
    """More writes than the queue holds (30) never block once writing fails; stop() returns."""
    import threading

    out = _GoneTerminal()
    w = terminal.DrainingWriterThread(out)
    w.start()
    done = threading.Event()

    def flood() -> None:
        for i in range(500):
            w.write(f"frame {i}")
        w.stop()
        done.set()

    threading.Thread(target=flood, daemon=True).start()
    assert done.wait(10), "a write blocked"
    assert out.writes == 1 and not w.is_alive()


def test_survive_hangup_swaps_textual_output_thread():
    linux = pytest.importorskip("textual.drivers.linux_driver")
    assert terminal.survive_hangup()
    assert linux.WriterThread is terminal.DrainingWriterThread
    assert terminal.survive_hangup()  # idempotent


@pytest.mark.skipif(not hasattr(signal, "SIGCONT"), reason="no SIGCONT")
def test_sigcont_resumes_only_a_terminal_still_there(monkeypatch):
    resumed: list[int] = []
    previous = signal.signal(signal.SIGCONT, lambda signum, frame: resumed.append(signum))
    try:
        assert terminal.guard_sigcont() and terminal.guard_sigcont()  # idempotent
        guarded = signal.getsignal(signal.SIGCONT)
        monkeypatch.setattr(terminal, "terminal_present", lambda stream=None: False)
        guarded(signal.SIGCONT, None)
        assert resumed == []  # hung up: the dead terminal is not restarted
        monkeypatch.setattr(terminal, "terminal_present", lambda stream=None: True)
        guarded(signal.SIGCONT, None)
        assert resumed == [signal.SIGCONT]  # ctrl+z, then fg: resumed as before
    finally:
        signal.signal(signal.SIGCONT, previous)


def test_terminal_present_is_false_for_a_file_or_a_closed_stream(tmp_path):
    with open(tmp_path / "f", "w") as f:
        assert not terminal.terminal_present(f)
    assert not terminal.terminal_present(f)  # closed: ValueError
