"""File modes of what the bot keeps at rest: DATA_DIR 0700, every file in it 0600.

("0700/0600" for what the bot creates; for what existed, group and others lose every bit and the
owner's bits stay as they were.)

DATA_DIR holds the SQLite database (prompts, moderators' logs and, while a job is live, its
interaction token: a credential for 15 minutes), generated images and uploaded image prompts. None
of it is for other accounts on the machine. At start the process umask becomes 077, so everything
created from then on (SQLite's database, -wal and -shm files, folders, images; renderer processes
inherit the umask) is private; files left by an older version, or created under another umask, are
chmod-ed once: the whole folder is walked when DATA_DIR itself was not 0700 yet, and the database
files are fixed on every start.
"""
from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

UMASK = 0o077
DB_SUFFIXES = ("", "-wal", "-shm", "-journal")


def _private(mode: int) -> int:
    """Group and others lose every bit; the owner keeps theirs (a read-only folder stays read-only,
    and is then refused by prepare_data_dir, rather than made writable behind the operator's back)."""
    return stat.S_IMODE(mode) & ~UMASK


def _chmod(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        mode = stat.S_IMODE(os.lstat(path).st_mode)
        if mode & UMASK:
            os.chmod(path, _private(mode))


def _walk(folder: Path) -> int:
    """chmod every folder 0700 and file 0600 under `folder` (symlinks left alone); how many."""
    changed = 0
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    if entry.is_symlink():
                        continue
                    if entry.is_dir():
                        stack.append(Path(entry.path))
                    _chmod(Path(entry.path))
                    changed += 1
        except FileNotFoundError:
            continue
    return changed


def secure_data_dir(data_dir: Path, db_path: Path | None = None) -> None:
    """Set the umask and the modes described in the module docstring (blocking; at start-up)."""
    os.umask(UMASK)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if stat.S_IMODE(data_dir.stat().st_mode) & UMASK:
        os.chmod(data_dir, _private(data_dir.stat().st_mode))
        count = _walk(data_dir)
        log.info("DATA_DIR %s is now private (0700, files 0600): %d entries fixed", data_dir, count)
    db_path = db_path or data_dir / "pixelforge.sqlite3"
    for suffix in DB_SUFFIXES:
        _chmod(Path(f"{db_path}{suffix}"))
