"""What hydrolib keeps in its cache, and pruning what the current code and data no longer reach.

``python -m hydrolib cache`` lists the finished runs, runs in progress, prepared data and
synthetic worlds under ``hydrolib.data.cache_dir()`` with their sizes and ages; ``--prune``
deletes the stale ones, after listing them and asking (``--yes`` answers for the user). Only
folders hydrolib wrote are ever deleted: each carries its marker
(``hydrolib.system.ownership``); anything else found in the cache's folders is listed as not
hydrolib's and left alone. A finished run is *live* when its recorded configuration still gives
its folder's key with today's code and data (so ``run`` would return it); otherwise it can
never be returned again. Prepared data are live while a live run was trained on them; a run's
stored scores while their run is live and today's scoring code computed them.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from hydrolib.data.source import cache_dir
from hydrolib.system.ownership import MARKER, is_owned, remove_owned


@dataclass(frozen=True)
class CacheEntry:
    """One folder of the cache: its kind, size (bytes), age (days since last change), whether
    the current code and data still reach it, and why not."""

    kind: str  # "run", "training", "scores", "prepared" or "world"
    path: Path
    size: int
    age_days: float
    live: bool
    why: str = ""
    owned: bool = True  # carries hydrolib's marker (the folder, or a scores file's folder): may be deleted

    @property
    def prunable(self) -> bool:
        """Stale and hydrolib's own: what ``prune`` deletes."""
        return not self.live and self.owned


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _age_days(path: Path) -> float:
    return (time.time() - path.stat().st_mtime) / 86400.0


NOT_OURS = f"not written by hydrolib (no {MARKER} marker): left alone"


_SCORES_FILE = re.compile(r"^[0-9a-f]{16}\.npz$")


def _legacy_scores(folder: Path) -> bool:
    """A run's scores folder from before markers: nothing in it but scores files named by
    their scoring fingerprint (16 hex digits), as ``store.stored_scores`` writes them."""
    return all(_SCORES_FILE.match(p.name) and p.is_file() for p in folder.iterdir())


def _owned(entry: CacheEntry) -> CacheEntry:
    """``entry`` with ``owned`` set from its folder's marker (for stored scores, their folder's)."""
    folder = entry.path.parent if entry.kind == "scores" else entry.path
    if is_owned(folder) or (entry.kind == "scores" and _legacy_scores(folder)):
        return entry
    return CacheEntry(entry.kind, entry.path, entry.size, entry.age_days, entry.live, NOT_OURS, owned=False)


def _run_status(folder: Path) -> tuple[bool, str, str]:
    """(live, why not, the prepared data's key) of a finished run's folder."""
    from hydrolib.experiments.config import RunConfig

    try:
        config = RunConfig.from_dict(json.loads((folder / "config.json").read_text())["config"])
        meta = json.loads((folder / "run.json").read_text())
    except (OSError, KeyError, TypeError, ValueError) as error:
        return False, f"no readable configuration ({error.__class__.__name__}): written by an older hydrolib", ""
    prepared = meta.get("prepared", "")
    if not config.data.synthetic and not Path(config.data.data_root).expanduser().is_dir():
        return True, f"data folder {config.data.data_root} not found: kept (it may be on a drive not mounted now)", \
            prepared
    try:
        key = config.key()
    except (OSError, ValueError) as error:
        return True, f"its data cannot be fingerprinted now ({error}): kept", prepared
    if folder.name != f"{config.experiment}-{config.profile}-{key}":
        return False, "the code or the data changed since it was trained", prepared
    return True, "", prepared


def cache_entries(root: Path | None = None) -> list[CacheEntry]:
    """Every folder of the cache at ``root`` (default ``cache_dir()``), runs first."""
    root = Path(root or cache_dir())
    entries, live_prepared = [], set()
    runs = root / "runs"
    for folder in sorted(runs.glob("*")) if runs.is_dir() else []:
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        if folder.name.endswith(".training"):
            finished = folder.with_name(folder.name[: -len(".training")])
            entries.append(CacheEntry("training", folder, _size(folder), _age_days(folder), not finished.exists(),
                                      "its run finished; a leftover" if finished.exists() else ""))
            continue
        live, why, prepared = _run_status(folder)
        if live and prepared:
            live_prepared.add(prepared)
        entries.append(CacheEntry("run", folder, _size(folder), _age_days(folder), live, why))
    live_runs = {e.path.name for e in entries if e.kind == "run" and e.live}
    entries += _score_entries(root / "scores", live_runs)
    prepared_root = root / "prepared"
    for folder in sorted(prepared_root.glob("*")) if prepared_root.is_dir() else []:
        if folder.is_dir() and not folder.name.startswith("."):
            live = folder.name in live_prepared
            entries.append(CacheEntry("prepared", folder, _size(folder), _age_days(folder), live,
                                      "" if live else "no live run was trained on it (prepared again when needed)"))
    worlds = root / "synthetic"
    for folder in sorted(worlds.glob("*")) if worlds.is_dir() else []:
        if folder.is_dir() and not folder.name.startswith("."):
            entries.append(CacheEntry("world", folder, _size(folder), _age_days(folder), True))
    return [entry if entry.kind == "world" else _owned(entry) for entry in entries]


def _score_entries(scores_root: Path, live_runs: set[str]) -> list[CacheEntry]:
    """One entry per stored scores file (``hydrolib.experiments.store.stored_scores``)."""
    from hydrolib.evaluation.scores import scoring_fingerprint

    current = scoring_fingerprint()
    entries = []
    for file in sorted(scores_root.glob("*/*.npz")) if scores_root.is_dir() else []:
        if file.name.startswith("."):
            continue
        run_name = file.parent.name
        why = ("its run is gone or stale" if run_name not in live_runs
               else "" if file.stem == current else "computed by an earlier scoring code")
        entries.append(CacheEntry("scores", file, file.stat().st_size, _age_days(file), not why, why))
    return entries


def prune(entries: list[CacheEntry]) -> int:
    """Delete the entries that are stale and hydrolib's own (``CacheEntry.prunable``); returns
    the bytes freed. A scores folder left with nothing but its marker goes with its last file."""
    freed = 0
    for entry in entries:
        if entry.prunable and entry.path.exists():
            if entry.kind == "scores":  # a file: its folder is hydrolib's (checked by cache_entries)
                entry.path.unlink()
                if {p.name for p in entry.path.parent.iterdir()} <= {MARKER}:
                    shutil.rmtree(entry.path.parent)
            else:
                remove_owned(entry.path, f"prune the stale {entry.kind} {entry.path}")
            freed += entry.size
    return freed


def _shown(entry: CacheEntry) -> str:
    """How a listing names an entry: the folder, or for stored scores their run's folder and file."""
    return str(entry.path.relative_to(entry.path.parents[1])) if entry.kind == "scores" else entry.path.name


def report(entries: list[CacheEntry], say=print) -> None:
    """One line per entry and a total, as the ``cache`` command prints them."""
    for entry in entries:
        status = "live " if entry.live else "stale" if entry.owned else "alien"  # alien: not hydrolib's
        say(
            f"{status} {entry.kind:9s} {entry.size / 2**20:9.1f} MiB {entry.age_days:7.1f} d  {_shown(entry)}"
            + (f"  ({entry.why})" if entry.why else "")
        )
    stale = [e for e in entries if e.prunable]
    foreign = [e for e in entries if not e.owned]
    say(
        f"{len(entries)} entries, {sum(e.size for e in entries) / 2**20:.1f} MiB; "
        f"{len(stale)} stale, {sum(e.size for e in stale) / 2**20:.1f} MiB"
        + (f"; {len(foreign)} not hydrolib's, never deleted" if foreign else "")
    )
