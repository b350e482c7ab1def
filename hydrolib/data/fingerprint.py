"""Fingerprints of LandBench data that follow the files' content.

``content_fingerprint(root, resolution, years)`` hashes the files a run reads (only its years
and variables) by content: each file's size and CRC-32 (``hydrolib.system.files.file_checksum``).
Hashing a file is remembered in ``<cache>/file_hashes.json`` under its absolute path, size
and modification time, and redone when either changes. An edit that keeps both (``cp -p``,
``rsync -a`` or ``tar`` restore modification times) is found by ``verify``, which hashes
every file again and updates what is remembered; the next fingerprint then follows.

The synthetic world's files are checked against the size and checksum its writer recorded
(``check_against_manifest``).

CRC-32 finds accidental changes (edits, truncation, bit rot); it is not meant to resist a
deliberate forgery.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from hydrolib.data.layout import BY_LONG_NAME, constant_path, resolution_folder, yearly_path
from hydrolib.data.vocabulary import FORCING, STATICS, TARGETS, WATER
from hydrolib.system.files import FILES_MANIFEST, CorruptCacheError, file_checksum, read_manifest, write_json

__all__ = ["content_fingerprint", "files_read", "verify", "verify_report", "check_against_manifest",
           "check_world", "ChangedFile", "FileHashes", "HASHES_FILE"]

HASHES_FILE = "file_hashes.json"
EVAPOTRANSPIRATION = "evapotranspiration"


def _hashes_path() -> Path:
    from hydrolib.data import cache_dir

    return cache_dir() / HASHES_FILE


class FileHashes:
    """Remembered file checksums, keyed by absolute path and valid for one (size, mtime)."""

    def __init__(self, path: Path | None = None):
        self.path = path or _hashes_path()
        try:
            self.entries: dict[str, list] = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):  # none yet, or damaged: hash again
            self.entries = {}
        self.changed = False

    def checksum(self, path: Path, rehash: bool = False) -> tuple[int, str]:
        """(size in bytes, CRC-32) of ``path``, hashed again if its size or mtime changed or if ``rehash``."""
        stat = path.stat()
        key = str(path.resolve())
        entry = self.entries.get(key)
        if not rehash and entry is not None and entry[0] == stat.st_size and entry[1] == stat.st_mtime_ns:
            return stat.st_size, entry[2]
        value = file_checksum(path)
        self.entries[key] = [stat.st_size, stat.st_mtime_ns, value]
        self.changed = True
        return stat.st_size, value

    def previous(self, path: Path) -> str | None:
        entry = self.entries.get(str(path.resolve()))
        return None if entry is None else entry[2]

    def save(self) -> None:
        if self.changed:
            write_json(self.path, self.entries)
            self.changed = False


def files_read(root: Path | str, resolution: float, years: tuple[int, int],
               variables: Iterable[str]) -> list[Path]:
    """The files ``open_landbench(root, resolution, years, variables)`` reads, in a fixed order.

    ``evapotranspiration`` comes from ``total_evaporation`` where it exists for every year,
    else from ``surface_latent_heat_flux``, as the reader does.
    """
    first, last = int(years[0]), int(years[1])
    paths: list[Path] = []
    for name in dict.fromkeys(variables):  # once each, in the order given
        if name == EVAPOTRANSPIRATION:
            evaporation = [yearly_path(root, resolution, "land_surface", y, "total_evaporation")
                           for y in range(first, last + 1)]
            paths += evaporation if all(p.exists() for p in evaporation) else [
                yearly_path(root, resolution, "land_surface", y, "surface_latent_heat_flux")
                for y in range(first, last + 1)]
            continue
        var = BY_LONG_NAME[name]
        if var.group == "constants":
            paths.append(constant_path(root, resolution, name))
        else:
            paths += [yearly_path(root, resolution, var.group, y, var.long_name) for y in range(first, last + 1)]
    return paths


def content_fingerprint(root: Path | str, resolution: float, years: tuple[int, int], variables: Iterable[str],
                        hashes: FileHashes | None = None) -> str:
    """16 hex digits naming the content of the files a run reads (see ``files_read``).

    Files not found are named as missing in the hash (the reader will report them).
    """
    root = Path(root)
    hashes = hashes or FileHashes()
    digest = hashlib.sha256()
    digest.update(f"{resolution_folder(resolution)}:{int(years[0])}-{int(years[1])}".encode())
    for path in files_read(root, resolution, years, variables):
        relpath = path.relative_to(root).as_posix()
        if path.exists():
            size, checksum = hashes.checksum(path)
            digest.update(f"{relpath}:{size}:{checksum}\n".encode())
        else:
            digest.update(f"{relpath}:missing\n".encode())
    hashes.save()
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class ChangedFile:
    """A file whose content differs from what was remembered or recorded."""

    path: Path
    was: str  # checksum remembered or recorded ("" if none was)
    now: str  # checksum now ("missing" if the file is gone)
    against: str  # "hash cache" or the manifest's path

    def __str__(self) -> str:
        return f"{self.path}: crc32 {self.now}, was {self.was or 'unknown'} ({self.against})"


def check_against_manifest(folder: Path | str, rehash: bool = False,
                           hashes: FileHashes | None = None) -> list[ChangedFile]:
    """Files of ``folder`` (written by ``hydrolib.system.files.atomic_directory``, such as a synthetic
    world) whose size or checksum differ from its ``FILES_MANIFEST``. Checksums come from the
    remembered hashes unless ``rehash``. Raises ``CorruptCacheError`` if there is no manifest."""
    folder = Path(folder)
    hashes = hashes or FileHashes()
    changed = []
    for relpath, record in read_manifest(folder)["files"].items():
        path = folder / relpath
        if not path.exists():
            changed.append(ChangedFile(path, record["crc32"], "missing", str(folder / FILES_MANIFEST)))
            continue
        size, checksum = hashes.checksum(path, rehash=rehash)
        if size != record["size"] or checksum != record["crc32"]:
            changed.append(ChangedFile(path, record["crc32"], checksum, str(folder / FILES_MANIFEST)))
    hashes.save()
    return changed


def verify(root: Path | str) -> list[ChangedFile]:
    """Hash every netCDF file under ``root`` again; return those whose content changed.

    A file counts as changed if its checksum differs from the one remembered in the hash
    cache, or, inside a folder with a ``FILES_MANIFEST`` (a synthetic world), from the one
    recorded there. The hash cache is updated, so later fingerprints follow the content.
    Raises ``LandBenchError`` for a ``root`` that is not a folder or holds no netCDF file (a
    mistyped path is never reported as unchanged).
    """
    from hydrolib.data.landbench import LandBenchError

    root = Path(root)
    if not root.is_dir():
        raise LandBenchError(f"{root} is {'not a folder' if root.exists() else 'missing'}; give the folder that "
                             "holds LandBench's resolution folders (0.5, 1, 2, 4) or a synthetic world")
    if next(root.rglob("*.nc"), None) is None:
        raise LandBenchError(f"{root} holds no netCDF (.nc) file to verify; give the folder that holds "
                             "LandBench's resolution folders (0.5, 1, 2, 4) or a synthetic world")
    hashes = FileHashes()
    changed: list[ChangedFile] = []
    manifests = {p.parent for p in root.rglob(FILES_MANIFEST)}
    in_manifest: set[Path] = set()
    for folder in sorted(manifests):
        in_manifest |= {(folder / r).resolve() for r in read_manifest(folder)["files"]}
        changed += check_against_manifest(folder, rehash=True, hashes=hashes)
    for path in sorted(root.rglob("*.nc")):
        if path.resolve() in in_manifest:
            continue
        before = hashes.previous(path)
        _, now = hashes.checksum(path, rehash=True)
        if before is not None and before != now:
            changed.append(ChangedFile(path, before, now, "hash cache"))
    hashes.save()
    return changed


def check_world(res_dir: Path | str) -> None:
    """Raise ``CorruptCacheError`` naming the first file of a synthetic world that differs from
    its manifest (sizes always; checksums as remembered, see ``FileHashes``)."""
    changed = check_against_manifest(res_dir)
    if changed:
        first = changed[0]
        more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
        raise CorruptCacheError(first.path, f"differs from {first.against}: crc32 {first.now}, "
                                            f"expected {first.was}{more}")





def verify_report(root: Path | str, say=None) -> int:
    """``hydrolib verify ROOT``: hash the files under ``root`` again, say which changed (``say``:
    default logged); returns the number of changed files (0: all as remembered)."""
    if say is None:
        import logging

        say = logging.getLogger(__name__).info
    changed = verify(root)
    for item in changed:
        say(f"changed: {item}")
    say(f"{len(changed)} changed file(s) under {root}" if changed else f"every file under {root} is as remembered")
    return len(changed)


def files_fingerprint(root: Path | str, resolution: float, years: tuple[int, int]) -> str:
    """Identity of the LandBench files that ``prepare`` reads, by content: the sizes and
    checksums of the given years' files of the variables it uses, and the years asked for
    (see ``hydrolib.data.fingerprint.content_fingerprint``; checksums are remembered by
    path, size and modification time, and ``hydrolib.data.fingerprint.verify`` renews them)."""
    from hydrolib.data.fingerprint import content_fingerprint

    return content_fingerprint(root, resolution, years, (*FORCING, *STATICS, *TARGETS, *WATER))
