"""The prepared cache: prepared arrays on disk as ``.npy`` files under a key of all that decides them.

A folder ``<cache>/<key>`` holds one ``.npy`` per array and ``meta.json`` (splits,
normalisation statistics, provenance); it appears complete or not at all
(``hydrolib.system.files.atomic_directory``) and is verified against its recorded sizes and
checksums when read. The key hashes the data's fingerprint, the ``PrepareConfig``, the
variables the data hold, hydrolib's version and ``PREPARE_VERSION``.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np

import hydrolib
from hydrolib.data.prepared import Prepared
from hydrolib.system.files import (
    FILES_MANIFEST,
    CorruptCacheError,
    CorruptCacheWarning,
    atomic_directory,
    verify_folder,
)
from hydrolib.system.ownership import remove_owned

# 2: normalisation moments summed range of cells by range (hydrolib.data.cellwise), which rounds
# differently from the whole-array sums of 1
# 3: variables whose files hold no value are left out, files read by their dimensions' names and
# units, cells without precipitation counted (issue 32)
PREPARE_VERSION = 3


def prepared_key(fingerprint: str, config, variables: tuple) -> str:
    """20 hex digits naming prepared arrays: the data's ``fingerprint``, ``config`` (the
    preparation's settings, a frozen dataclass; its seed only where data are drawn), the ``variables``
    the data hold (``held_variables``), hydrolib's version and ``PREPARE_VERSION``."""
    settings = asdict(config)
    if config.train_fraction == 1.0:  # nothing is drawn: every seed prepares the same arrays
        settings.pop("seed")
    payload = json.dumps({"data": fingerprint, "config": settings, "variables": variables,
                          "hydrolib": hydrolib.__version__, "prepare": PREPARE_VERSION}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


ARRAYS = ("inputs", "statics", "targets", "water", "lat", "lon", "time", "train_cells", "train_days")


def write_prepared(prepared: Prepared, folder: Path) -> None:
    # atomic_directory records each file's size and checksum, which read_prepared verifies.
    with atomic_directory(folder, kind="prepared data") as tmp:
        for name in ARRAYS:
            np.save(tmp / f"{name}.npy", getattr(prepared, name))
        (tmp / "meta.json").write_text(json.dumps({
            "splits": prepared.splits, "stats": prepared.stats, "fingerprint": prepared.fingerprint,
            "meta": prepared.meta}, indent=1))


def read_prepared(folder: Path) -> Prepared | None:
    """The prepared arrays cached in ``folder``, or None if there are none.

    A folder that fails verification (a file missing, truncated or altered since it was
    written; see ``hydrolib.system.files.verify_folder``) is deleted with a ``CorruptCacheWarning``
    naming it, and None is returned so the caller prepares the data again.
    """
    if not folder.exists():
        return None
    try:
        verify_folder(folder)
        meta = json.loads((folder / "meta.json").read_text())
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in ARRAYS}
        return Prepared(**arrays, splits={k: tuple(v) for k, v in meta["splits"].items()}, stats=meta["stats"],
                        fingerprint=meta["fingerprint"], meta=meta["meta"])
    except (CorruptCacheError, ValueError, KeyError) as error:
        if not (folder / FILES_MANIFEST).exists():  # written before caches were verified: nothing to trust
            problem = f"prepared data in {folder} has no {FILES_MANIFEST} (written by an older hydrolib)"
        else:
            problem = f"prepared data in {folder} is damaged ({error})"
        warnings.warn(f"{problem}; deleting it and preparing the data again", CorruptCacheWarning, stacklevel=3)
        remove_owned(folder, "delete the damaged prepared data")
        return None
