"""Refuse network filesystems: SQLite's WAL mode needs a shared-memory file (``-shm``) that every
process maps, which NFS/SMB/CIFS cannot provide coherently (https://sqlite.org/wal.html)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from triage_tui.cache.errors import UnsupportedFilesystem

NETWORK_FILESYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "afs", "ncpfs", "9p", "ceph",
    "glusterfs", "lustre", "gpfs", "davfs", "webdav", "afpfs", "fuse.sshfs", "sshfs",
    "fuse.davfs2", "fuse.glusterfs", "fuse.cephfs", "fuse.rclone", "fuse.s3fs",
})
MOUNTS_FILE = "/proc/self/mounts"


def _unescape(field: str) -> str:
    # /proc/mounts escapes space, tab, newline and backslash as octal (\040 ...).
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def filesystem_type(path: Path) -> str | None:
    """The type of the filesystem holding ``path`` (Linux: from /proc/self/mounts), or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        with open(MOUNTS_FILE, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    target = os.path.realpath(path)
    best, best_type = "", None
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        mnt, fstype = _unescape(parts[1]), parts[2]
        prefix = mnt.rstrip("/") + "/"
        if (target == mnt or target.startswith(prefix) or mnt == "/") and len(mnt) >= len(best):
            best, best_type = mnt, fstype
    return best_type


def _existing_ancestor(path: Path) -> Path:
    p = path
    while not p.exists() and p.parent != p:
        p = p.parent
    return p


def check_local(directory: Path) -> None:
    """Raise :class:`UnsupportedFilesystem` if ``directory`` is on a network filesystem."""
    fstype = filesystem_type(_existing_ancestor(directory))
    if fstype and fstype.lower() in NETWORK_FILESYSTEMS:
        raise UnsupportedFilesystem(directory, fstype)
