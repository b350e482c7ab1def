"""What the process tests look at: a child Python with this checkout on its path, and the
processes alive under a parent (Linux's /proc). Shared by test_faults.py and test_processes.py
(pytest puts tests/ on the path)."""

import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def child_env() -> dict:
    """The environment of a child Python that imports this checkout's hydrolib."""
    return {**os.environ, "PYTHONPATH": str(REPO)}


def alive(pid: int) -> bool:
    """Alive and not a zombie (a killed child of ours stays a zombie until reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def descendants(pid: int) -> set[int]:
    """Every process below ``pid``, children of its threads included."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:
            continue
        for child in map(int, children):
            found |= {child} | descendants(child)
    return found


def wait_until(condition, seconds: float, what: str) -> None:
    """Poll ``condition`` until it holds; an AssertionError naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {seconds} s waiting for {what}")
        time.sleep(0.05)
