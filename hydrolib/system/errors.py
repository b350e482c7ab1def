"""Errors said plainly: a full disk named as one, and any error as the lines a user reads.

A full disk rarely says so: numpy reports "Not enough free space to write …" without an
errno, netCDF "NetCDF: HDF error", and a later step may fail on something else entirely.
``disk_full`` therefore asks the file system itself (``shutil.disk_usage``) when a write
fails: with less than ``FULL_BYTES`` left where the file was being written, the disk is
full whatever the message said. ``hydrolib.system.files`` checks every failed atomic write
this way and raises ``DiskFullError`` naming the file, the free space and what to do.

``one_line`` turns any exception into what the command line prints: the message, each line
of it one error (file, variable or setting at fault, what was found, what was expected, what
to do), prefixed with what kind of problem it is where the message does not say (a full disk,
permission denied, a file that is not there).
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

FULL_BYTES = 1 << 20  # 1 MiB: less than this left after a failed write means the disk is full


class DiskFullError(OSError):
    """A write failed because the file system it went to is full."""

    def __init__(self, message: str):
        super().__init__(errno.ENOSPC, message)

    def __str__(self) -> str:
        return self.strerror

    def __reduce__(self):  # raised in worker processes, unpickled in the parent
        return type(self), (self.strerror,)


def free_bytes(folder: Path | str) -> int | None:
    """Bytes free to this user on the file system holding ``folder`` (its nearest existing
    ancestor); None if it cannot be asked."""
    folder = Path(folder)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def disk_full(folder: Path | str, error: BaseException) -> bool:
    """Whether ``error``, raised while writing into ``folder``, comes from a full disk: its errno
    is ENOSPC (or EDQUOT, a quota), its message says so, or less than ``FULL_BYTES`` are left."""
    if isinstance(error, DiskFullError):
        return False  # already said
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if "free space" in str(error) or "No space left" in str(error):
        return True
    if not isinstance(error, (OSError, RuntimeError)):  # netCDF's write errors are RuntimeErrors
        return False
    free = free_bytes(folder)
    return free is not None and free < FULL_BYTES


def disk_full_error(path: Path | str, error: BaseException) -> DiskFullError:
    """The ``DiskFullError`` for a failed write of ``path``."""
    path = Path(path)
    free = free_bytes(path.parent)
    left = f"{free / 2**20:.1f} MiB left" if free is not None else "no space left"
    return DiskFullError(f"disk full: writing {path} failed ({type(error).__name__}: {error}); {left} on its file "
                         f"system. Free some space there, or point HYDROLIB_CACHE (or the output folder) to a "
                         f"drive with room, and run the command again: what was written before is kept.")


def one_line(error: BaseException) -> str:
    """What the command line prints for ``error``: its message (one line per problem it lists),
    named as a full disk, denied permission or missing file where the message alone would not say."""
    message = str(error).strip() or type(error).__name__
    if isinstance(error, DiskFullError):
        return message
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        where = f" writing {error.filename}" if error.filename else ""
        return f"disk full{where}: {error.strerror or message}. Free some space, or point HYDROLIB_CACHE to a " \
               f"drive with room."
    if isinstance(error, PermissionError) and error.filename:
        return f"permission denied: {error.filename}: this user may not write or change it. Choose a folder you " \
               f"may write to (HYDROLIB_CACHE, --output) or fix its permissions."
    if isinstance(error, FileNotFoundError) and error.filename:
        return f"file not found: {error.filename}"
    if isinstance(error, OSError) and error.filename and str(error.filename) not in message:
        return f"{message} ({error.filename})"
    return message
