"""The core layers never import the UI: domain/, cache/, sync/, server/ and workflows/ must work without
Textual (DESIGN.md, "Layers"). Each package is imported in a fresh interpreter and sys.modules
is checked, so an indirect import is caught too."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import triage_tui

CORE = ["domain", "cache", "sync", "server", "workflows"]
FORBIDDEN = ("textual",)
# Lower layers never import upper ones (arrows point down).
NOT_BELOW = {
    "domain": ("triage_tui.cache", "triage_tui.sync", "triage_tui.server", "triage_tui.app"),
    "cache": ("triage_tui.sync", "triage_tui.server", "triage_tui.app"),
    "sync": ("triage_tui.server", "triage_tui.app"),
    "workflows": ("triage_tui.server", "triage_tui.app", "triage_tui.screens",
                  "triage_tui.widgets"),
}


def _modules(package: str) -> list[str]:
    pkg = __import__(f"triage_tui.{package}", fromlist=["x"])
    names = [pkg.__name__]
    for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{pkg.__name__}."):
        names.append(info.name)
    return names


@pytest.mark.parametrize("package", CORE)
def test_core_package_does_not_import_textual(package: str) -> None:
    mods = _modules(package)
    code = (
        "import importlib, sys\n"
        f"for m in {mods!r}: importlib.import_module(m)\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = out.stdout.split()
    bad = [m for m in loaded if m.split(".")[0] in FORBIDDEN]
    assert not bad, f"triage_tui.{package} pulls in {bad[:5]}"
    for upper in NOT_BELOW.get(package, ()):
        assert not [m for m in loaded if m == upper or m.startswith(upper + ".")], (
            f"triage_tui.{package} imports the upper layer {upper}"
        )


def test_package_version() -> None:
    assert triage_tui.__version__
