"""What hydrolib wrote, and so may delete: a marker file in every folder it owns.

hydrolib deletes folders in a few places — pruning its cache, replacing a run or prepared
data that are damaged, ``synthetic --overwrite``, a book build's staging folder. A wrong path
(an empty ``HYDROLIB_CACHE``, a typo in ``--output``, a data folder given where a world should
go) must never turn that into the loss of a user's own files. So every folder hydrolib
creates to own carries a marker, ``.hydrolib`` (a few lines of JSON: who wrote it, what it
is, when), and every deletion goes through ``remove_owned``, which refuses a folder without
it (``NotOwnedError``, naming the folder and what to do).

Why a marker file, not a name pattern or a location: a user's ``./runs/x`` looks like a
cache entry by name and place alone (that is how an empty ``HYDROLIB_CACHE`` lost one); only
hydrolib writes ``.hydrolib``. Folders written by hydrolib before markers existed carry its
file manifest instead (``hydrolib.system.files.FILES_MANIFEST``, written by the same code that
writes the folder, listing every file in it): one whose listed files are all there counts as
hydrolib's too (``is_owned``), so older caches can still be pruned.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

MARKER = ".hydrolib"
WRITER = "hydrolib"
_LEGACY_MANIFEST = ".files.json"  # hydrolib.system.files.FILES_MANIFEST (files imports this module)


class NotOwnedError(PermissionError):
    """A folder hydrolib was about to delete or replace does not carry its marker."""


def marker_text(kind: str) -> str:
    """The marker's content: JSON naming the writer, the folder's ``kind`` and the time written."""
    return json.dumps({"writer": WRITER, "kind": kind, "written": time.strftime("%Y-%m-%dT%H:%M:%S")}) + "\n"


def mark_owned(folder: Path | str, kind: str) -> Path:
    """Create ``folder`` if needed and mark it as hydrolib's (``kind``: e.g. ``"run"``, ``"cache"``);
    returns the folder. A folder that is already marked keeps its marker."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / MARKER
    if not marker.exists():
        marker.write_text(marker_text(kind))
    return folder


def _marked(folder: Path) -> bool:
    try:
        return json.loads((folder / MARKER).read_text()).get("writer") == WRITER
    except (OSError, ValueError, AttributeError):
        return False


def _legacy_manifest(folder: Path) -> bool:
    """A file manifest as hydrolib wrote it before markers: ``{"version": ..., "files": {...}}``
    with every listed file present."""
    try:
        manifest = json.loads((folder / _LEGACY_MANIFEST).read_text())
        files = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return isinstance(files, dict) and "version" in manifest and all((folder / name).is_file() for name in files)


def is_owned(folder: Path | str) -> bool:
    """Whether ``folder`` is hydrolib's to delete: it carries the marker, or (written before
    markers) hydrolib's file manifest with every file it lists."""
    folder = Path(folder)
    return folder.is_dir() and (_marked(folder) or _legacy_manifest(folder))


def check_owned(folder: Path | str, doing: str) -> None:
    """Raise ``NotOwnedError`` unless ``folder`` is hydrolib's (``is_owned``) or absent or empty;
    ``doing`` says what was about to happen, e.g. ``"replace it with the synthetic world"``."""
    folder = Path(folder)
    if not folder.exists() or (folder.is_dir() and not any(folder.iterdir())) or is_owned(folder):
        return
    raise NotOwnedError(f"refusing to {doing}: {folder} was not written by hydrolib (it has no {MARKER} marker), "
                        f"so its files may be yours. Nothing was deleted; move it away or choose another folder.")


def remove_owned(path: Path | str, doing: str = "delete it") -> None:
    """Delete the folder ``path`` if it is hydrolib's (``check_owned``); a file inside an owned
    folder (its parent) likewise. Absent paths are fine."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return
    if path.is_dir() and not path.is_symlink():
        check_owned(path, doing)
        shutil.rmtree(path)
    else:
        if not is_owned(path.parent):
            raise NotOwnedError(f"refusing to {doing}: {path.parent} was not written by hydrolib (it has no "
                                f"{MARKER} marker). Nothing was deleted.")
        path.unlink()
