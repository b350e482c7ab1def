"""Data: the synthetic world, the LandBench reader and preparation for training."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from hydrolib.data.write import write_landbench  # noqa: F401  (public: users write their own data)
from hydrolib.profiles import get_profile


@dataclass(frozen=True)
class DataSource:
    """Where a notebook's data lives: a LandBench root, its resolution and years."""

    root: Path
    resolution: float
    years: tuple[int, int]
    synthetic: bool


def cache_dir() -> Path:
    """hydrolib's cache: ``$HYDROLIB_CACHE`` or ``~/.cache/hydrolib``."""
    return Path(os.environ.get("HYDROLIB_CACHE", Path.home() / ".cache" / "hydrolib")).expanduser()


def data_source(profile: str, data_root: str | Path = "", seed: int = 0,
                resolution: float | None = None, years: tuple[int, int] | None = None) -> DataSource:
    """Resolve a notebook's data parameters.

    An empty ``data_root`` means the synthetic world of ``profile``, generated into the
    cache on first use; otherwise ``data_root`` is a LandBench folder (holding ``1``,
    ``2``, ...). ``resolution`` and ``years`` override the profile's.
    """
    p = get_profile(profile)
    resolution = float(resolution or p.resolution)
    years = tuple(years or p.years)
    if str(data_root):
        return DataSource(Path(data_root).expanduser(), resolution, years, synthetic=False)
    from hydrolib.data.synthetic import generate

    root = cache_dir() / "synthetic" / f"seed{seed}_{years[0]}-{years[1]}"
    generate(root, resolution, years, seed)
    return DataSource(root, resolution, years, synthetic=True)
