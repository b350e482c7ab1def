"""A file lock, so that two processes do not do the same work at once.

``file_lock(path)`` holds an exclusive ``fcntl.flock`` on ``path`` (created if needed) for
the block. The kernel releases it when its holder exits, however it exits (kill -9
included), so a dead holder never blocks anyone. The holder writes who it is (host, process
id, start time, purpose) into the file; a waiter prints that once and, after ``timeout``
seconds, raises ``LockTimeout`` naming it. Typical use, for a run folder::

    with file_lock(folder.with_suffix(".lock"), purpose=f"training {name}"):
        if finished(folder):  # the first trainer may have finished while we waited
            return load(folder)
        train_and_save(folder)

flock locks are advisory and, on network file systems, only as good as their lock
support (NFSv4 and Lustre emulate them; some older NFS mounts lock locally only).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Callable, Iterator


class LockTimeout(TimeoutError):
    """Another process held the lock for longer than the caller would wait."""


def lock_holder(path: Path | str) -> str:
    """Who holds (or last held) the lock at ``path``, in words."""
    try:
        info = json.loads(Path(path).read_text())
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["since"]))
        return f"process {info['pid']} on {info['host']} ({info['purpose']}) since {started}"
    except (OSError, ValueError, KeyError, TypeError):
        return "an unknown process"


@contextlib.contextmanager
def file_lock(path: Path | str, timeout: float | None = None, purpose: str = "",
              poll_seconds: float = 0.2, say: Callable[[str], None] | None = None) -> Iterator[Path]:
    """Hold an exclusive lock on ``path`` for the block, waiting up to ``timeout`` seconds
    (None: for as long as it takes).

    ``say`` receives one message when the lock is busy (default: printed to stderr).
    Raises ``LockTimeout`` naming the lock file and its holder.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    say = say or (lambda message: print(message, file=sys.stderr, flush=True))
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        started = time.monotonic()
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - started
                if timeout is not None and waited >= timeout:
                    raise LockTimeout(f"{path} is still locked after {waited:.0f} s by {lock_holder(path)}; "
                                      "wait for it to finish, or end that process") from None
                if not told:
                    say(f"waiting for {path}: held by {lock_holder(path)}")
                    told = True
                time.sleep(poll_seconds)
        holder = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(),
                             "purpose": purpose or " ".join(sys.argv[:3])})
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode(), 0)
        yield path
    finally:
        os.close(fd)  # releases the lock; the file stays, so waiters keep one inode to lock
