"""A file lock, so that two processes do not do the same work at once.

``file_lock(path)`` holds an exclusive lock on ``path`` for the block, through the
`filelock <https://py-filelock.readthedocs.io>`_ package: ``flock`` on Linux and macOS,
``msvcrt.locking`` on Windows, so ``hydrolib`` imports and locks on every platform. The
operating system releases a native lock when its holder exits, however it exits (kill -9
included), so a dead holder never blocks anyone; on a file system without ``flock`` filelock
falls back to a lock file of its own, which it breaks once the process that made it is gone.

The holder writes who it is (host, process id, start time, purpose) beside the lock, in
``<path>.holder``; a waiter says that once and, after ``timeout`` seconds, raises
``LockTimeout`` naming it. Typical use, for a run folder::

    with file_lock(folder.with_suffix(".lock"), purpose=f"training {name}"):
        if finished(folder):  # the first trainer may have finished while we waited
            return load(folder)
        train_and_save(folder)

Locks are advisory and, on network file systems, only as good as their lock support (NFSv4
and Lustre emulate them; some older NFS mounts lock locally only).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

logger = logging.getLogger(__name__)


class LockTimeout(TimeoutError):
    """Another process held the lock for longer than the caller would wait."""


def holder_path(path: Path | str) -> Path:
    """The file beside the lock ``path`` in which its holder says who it is."""
    path = Path(path)
    return path.with_name(path.name + ".holder")


def lock_holder(path: Path | str) -> str:
    """Who holds (or last held) the lock at ``path``, in words."""
    try:
        info = json.loads(holder_path(path).read_text())
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["since"]))
        return f"process {info['pid']} on {info['host']} ({info['purpose']}) since {started}"
    except (OSError, ValueError, KeyError, TypeError):
        return "an unknown process"


def _write_holder(path: Path, purpose: str) -> None:
    """Say who holds the lock, atomically (a waiter never reads half of it)."""
    target = holder_path(path)
    temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(),
                                     "purpose": purpose or " ".join(sys.argv[:3])}))
    os.replace(temporary, target)


@contextlib.contextmanager
def file_lock(path: Path | str, timeout: float | None = None, purpose: str = "",
              poll_seconds: float = 0.2, say: Callable[[str], None] | None = None) -> Iterator[Path]:
    """Hold an exclusive lock on ``path`` for the block, waiting up to ``timeout`` seconds
    (None: for as long as it takes).

    ``say`` receives one message when the lock is busy (default: logged as a warning, which
    the command line shows). Raises ``LockTimeout`` naming the lock file and its holder.
    """
    from filelock import FileLock, Timeout

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    say = say or logger.warning
    lock = FileLock(path)
    started = time.monotonic()
    try:
        lock.acquire(blocking=False)
    except Timeout:
        say(f"waiting for {path}: held by {lock_holder(path)}")
        try:
            lock.acquire(timeout=-1 if timeout is None else max(0.0, timeout - (time.monotonic() - started)),
                         poll_interval=poll_seconds)
        except Timeout:
            raise LockTimeout(f"{path} is still locked after {time.monotonic() - started:.0f} s by "
                              f"{lock_holder(path)}; wait for it to finish, or end that process") from None
    try:
        _write_holder(path, purpose)
        yield path
    finally:
        holder_path(path).unlink(missing_ok=True)  # still ours: the lock is released only below
        lock.release()
