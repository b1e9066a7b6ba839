"""COB_HOME, the folder of cob's local state (the SQLite ledger, the payers' state, the dev
server's database and log, the statements), kept its owner's alone: it holds patient data.

Light on imports, so the `cob` command can secure it before anything else runs.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def owner_only() -> None:
    """Files and folders this process creates from now on are its user's alone (umask 077):
    the ledger, the payers' state, statements and logs hold patient data. Every entry point
    (the `cob` command, a worker) calls it first."""
    os.umask(0o077)


def home_path() -> Path:
    return Path(os.environ.get("COB_HOME") or ".cob").expanduser().resolve()


def cob_home() -> Path:
    """COB_HOME, or ./.cob; created on demand, its owner's alone (0700)."""
    home = home_path()
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return home


# What cob keeps in COB_HOME: the SQLite ledger and the payers' state (with their -wal and
# -shm files), the dev server's folder (temporal.db, temporal-server.log), the statements,
# the local payload key file (workers/codec.py).
HOME_FILES = (
    "ledger.db*", "payers.db*", "demo-payers.db*", "temporal", "statements", "payload-keys",
)  # fmt: skip


def _owner_only_mode(path: Path) -> None:
    try:
        mode = path.lstat().st_mode
        if not stat.S_ISLNK(mode) and mode & 0o077:
            path.chmod(stat.S_IMODE(mode) & 0o700)
    except OSError:  # gone meanwhile, or another user's: leave it
        pass


def secure_home() -> None:
    """Take back what an earlier run with a looser umask left readable by others in an
    existing COB_HOME: the folder (0700) and what cob keeps there, one level into its own
    folders. Nothing else in it is touched; a missing COB_HOME is not created."""
    home = home_path()
    if not home.is_dir():
        return
    _owner_only_mode(home)
    for pattern in HOME_FILES:
        for entry in home.glob(pattern):
            _owner_only_mode(entry)
            if entry.is_dir() and not entry.is_symlink():
                for inside in entry.iterdir():
                    _owner_only_mode(inside)
