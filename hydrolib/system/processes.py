"""Child processes that end with their parent.

A worker pool's processes outlive a parent killed with SIGKILL: nothing runs in the parent
to stop them, and a worker busy writing a file never reads the closed pipe that would tell
it. ``die_with_parent`` (a pool ``initializer``; ``pool_options`` gives the keywords) makes the
kernel end the worker instead. Every pool of hydrolib uses it: training workers, the synthetic
world's writers and simulators, chapter execution; a Jupyter kernel a chapter's worker starts
ends with the worker by itself (ipykernel polls its parent), and ``end_with_this_process``
does the same for a plain subprocess such as ``jupyter-book``.

Why ``prctl(PR_SET_PDEATHSIG)`` on Linux: the kernel sends the signal the moment the parent
dies, whatever the worker is doing (even blocked inside a C library writing netCDF), and
costs nothing while the parent lives. Its one pitfall is that "parent" means the thread that
forked the worker: ``ProcessPoolExecutor`` with the fork context starts its workers from the
thread that first calls ``submit`` (here the main thread, which lives as long as the process).
Elsewhere (macOS, or if ``prctl`` cannot be called) a daemon thread polls ``os.getppid()``
once a second and exits the worker when the parent is gone.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
POLL_SECONDS = 1.0


def _set_parent_death_signal(sig: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int) -> None:
    while True:
        if os.getppid() != parent_pid:
            os._exit(1)
        time.sleep(POLL_SECONDS)


def die_with_parent(parent_pid: int) -> None:
    """End this process when ``parent_pid`` (its parent when it started) dies.

    Call it first thing in a child, e.g. ``ProcessPoolExecutor(initializer=die_with_parent,
    initargs=(os.getpid(),))``. If the parent is already gone, the child exits at once.
    """
    if not _set_parent_death_signal(signal.SIGKILL):
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="die-with-parent").start()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)


def pool_options(*, one_thread: bool = False) -> dict:
    """``ProcessPoolExecutor`` keywords whose workers end with this process (``die_with_parent``)
    and, with ``one_thread``, compute on one thread each (``OMP_NUM_THREADS=1`` and the like, which
    a kernel or a subprocess the worker starts inherits). Create the pool in the main thread: the
    workers' "parent" is the thread that starts them (see the module's docstring)."""
    return {"initializer": start_worker, "initargs": (os.getpid(), one_thread)}


def start_worker(parent_pid: int, one_thread: bool = False) -> None:
    """A pool worker's first act (``pool_options``): end with ``parent_pid``; optionally one thread."""
    die_with_parent(parent_pid)
    if one_thread:
        for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[variable] = "1"


def end_with_this_process() -> None:
    """``subprocess.Popen(preexec_fn=...)``: the child (e.g. ``jupyter-book``) is sent SIGKILL when
    the thread that started it dies, so a killed build leaves no renderer behind (Linux only;
    elsewhere a no-op)."""
    _set_parent_death_signal(signal.SIGKILL)
