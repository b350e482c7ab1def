"""The one route from a run's or a notebook's settings to its data.

``DataSettings`` names the data: a grid spacing, a range of years and where the record comes
from — a LandBench folder (``data_root``) or, where that is empty, the synthetic world
(generated into the cache on first use). Each origin is a ``DataSource``: the contract every
source of data keeps, opening its record as one ``xarray.Dataset`` in hydrolib's units in the
LandBench layout. Every notebook and every training run reaches the data through
``open_data`` (the gridded dataset, lazily) or ``load_prepared`` (the training arrays over land
cells, cached).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Protocol, runtime_checkable

from hydrolib.data.layout import RESOLUTIONS, resolution_folder

if TYPE_CHECKING:
    import xarray as xr

    from hydrolib.data.prepare import PrepareConfig
    from hydrolib.data.prepared import Prepared
    from hydrolib.data.vocabulary import VariableChoice


def cache_dir() -> Path:
    """hydrolib's cache: ``$HYDROLIB_CACHE`` or ``~/.cache/hydrolib``, as an absolute path.

    An empty (or blank) ``HYDROLIB_CACHE`` counts as unset: it would otherwise name the current
    folder, whose ``runs/`` and ``prepared/`` may be the user's own."""
    import os

    value = os.environ.get("HYDROLIB_CACHE", "").strip()
    return Path(value or Path.home() / ".cache" / "hydrolib").expanduser().absolute()


def pin_cache_dir() -> Path:
    """Set ``$HYDROLIB_CACHE`` to ``cache_dir()``'s absolute path where it is set but relative, so
    that processes started from here (training workers, chapters executing in ``notebooks/``)
    resolve it against this process's folder, once, not against their own; returns the cache."""
    import os

    cache = cache_dir()
    if os.environ.get("HYDROLIB_CACHE", "").strip():
        os.environ["HYDROLIB_CACHE"] = str(cache)
    return cache


@runtime_checkable
class DataSource(Protocol):
    """The contract of a source of data: a record in LandBench's layout, opened in hydrolib's units.

    ``name`` keys it in ``DATA_SOURCES``. Given a ``DataSettings``: ``fingerprint`` names the
    record's content without opening it (the run cache's key); ``folder`` gives the folder that
    holds LandBench's resolution folders, making it first where the source generates its data;
    ``label`` names the data for a reader (never an absolute path); ``open`` opens the record as
    one lazily loaded ``xarray.Dataset`` in hydrolib's units (``hydrolib.data.landbench``).
    """

    name: str

    def fingerprint(self, settings: DataSettings) -> str:
        """The record's identity, known without opening it."""

    def folder(self, settings: DataSettings) -> Path:
        """The folder holding the resolution folders (made first where the source generates them)."""

    def label(self, settings: DataSettings) -> str:
        """A name for the data fit to print."""

    def open(self, settings: DataSettings, variables: Iterable[str] | VariableChoice | None = None,
             years: tuple[int, int] | None = None) -> xr.Dataset:
        """The record as one dataset in hydrolib's units."""


class LandBenchFolder:
    """LandBench 1.0, or any record its owner wrote in LandBench's layout, in ``data_root``."""

    name = "landbench"

    def fingerprint(self, settings: DataSettings) -> str:
        """The content of the files a run reads (``hydrolib.data.fingerprint.files_fingerprint``)."""
        from hydrolib.data.fingerprint import files_fingerprint

        return files_fingerprint(settings.data_root, settings.resolution, settings.years)

    def folder(self, settings: DataSettings) -> Path:
        return Path(settings.data_root).expanduser()

    def label(self, settings: DataSettings) -> str:
        return Path(settings.data_root).name

    def open(self, settings: DataSettings, variables=None, years=None) -> xr.Dataset:
        from hydrolib.data.landbench import open_landbench

        return open_landbench(self.folder(settings), settings.resolution, years or settings.years, variables)


class SyntheticWorld:
    """The synthetic, LandBench-shaped world (``hydrolib.data.synthetic``), written into the cache
    under its seed and years on first use."""

    name = "synthetic"

    def fingerprint(self, settings: DataSettings) -> str:
        """The world's generator version, land model, grid, years and seed (``world_fingerprint``)."""
        from hydrolib.data.synthetic import world_fingerprint

        return world_fingerprint(settings.resolution, settings.years, settings.world_seed, settings.world)

    def folder(self, settings: DataSettings) -> Path:
        from hydrolib.data.synthetic import DEFAULT_WORLD

        # the default world keeps the folder name it always had; another world gets its own
        prefix = "" if settings.world == DEFAULT_WORLD else f"{settings.world}_"
        root = (cache_dir() / "synthetic"
                / f"{prefix}seed{settings.world_seed}_{settings.years[0]}-{settings.years[1]}")
        generate_world(root, settings.resolution, settings.years, settings.world_seed, world=settings.world)
        return root

    def label(self, settings: DataSettings) -> str:
        from hydrolib.data.synthetic import DEFAULT_WORLD

        world = "" if settings.world == DEFAULT_WORLD else f"{settings.world} "
        return f"synthetic {world}world (seed {settings.world_seed})"

    def open(self, settings: DataSettings, variables=None, years=None) -> xr.Dataset:
        from hydrolib.data.landbench import open_landbench

        return open_landbench(self.folder(settings), settings.resolution, years or settings.years, variables)


def generate_world(root: Path | str, resolution: float, years: tuple[int, int], seed: int = 0, **options) -> Path:
    """``hydrolib.data.synthetic.generate`` holding a lock beside the world's resolution folder
    (``<root>/.<res>.lock``): a second process asking for the same world waits for the first and
    then finds it complete, instead of judging a half-replaced world changed and writing it again.
    Returns the resolution folder."""
    from hydrolib.data.synthetic import generate
    from hydrolib.system.locks import file_lock

    root = Path(root)
    folder = root / resolution_folder(resolution)
    with file_lock(root / f".{folder.name}.lock", purpose=f"writing the synthetic world {folder}"):
        return generate(root, resolution, years, seed, **options)


DATA_SOURCES: dict[str, DataSource] = {source.name: source for source in (LandBenchFolder(), SyntheticWorld())}


@dataclass(frozen=True)
class DataSettings:
    """Which data: grid spacing (degrees), inclusive years, the synthetic world's seed and land
    model (``world``: a name in ``hydrolib.data.synthetic.WORLDS``, default the ERA5-Land analogue),
    and a LandBench folder (``data_root``, holding ``0.5``, ``1``, ``2``, ``4``; empty: the synthetic world).

    A relative ``data_root`` (or one starting with ``~``) is made absolute here, once, against the
    folder of the process that names it: the settings then mean the same folder in every process
    they reach (training workers, chapters executing in ``notebooks/``)."""

    resolution: float
    years: tuple[int, int]
    world_seed: int = 0
    data_root: str = ""
    world: str = "era5land"

    def __post_init__(self):
        object.__setattr__(self, "resolution", float(self.resolution))
        object.__setattr__(self, "years", tuple(int(y) for y in self.years))
        root = str(self.data_root).strip()
        object.__setattr__(self, "data_root", str(Path(root).expanduser().absolute()) if root else "")
        if self.resolution not in RESOLUTIONS:
            raise ValueError(f"resolution must be one of {', '.join(f'{r:g}' for r in RESOLUTIONS)} degrees "
                             f"(setting 'resolution'); got {self.resolution:g}")
        if len(self.years) != 2 or self.years[0] > self.years[1]:
            raise ValueError(f"years must be (first, last) with first <= last (setting 'years'); got {self.years}")
        from hydrolib.data.synthetic.worlds import WORLDS

        if self.world not in WORLDS:
            raise ValueError(f"world must be one of {', '.join(WORLDS)} (setting 'world'); got {self.world!r}")
        if self.data_root and self.world != "era5land":
            raise ValueError(f"setting 'world' = {self.world!r} names a synthetic world, but 'data_root' names "
                             "a LandBench folder: give one or the other")

    @property
    def synthetic(self) -> bool:
        """Whether the data are the synthetic world (no ``data_root``)."""
        return not self.data_root

    @property
    def source(self) -> DataSource:
        """Where the record comes from: a LandBench folder, or the synthetic world."""
        return DATA_SOURCES["synthetic" if self.synthetic else "landbench"]

    @property
    def source_name(self) -> str:
        """A name for the data fit to print: ``synthetic world (seed 0)`` or the LandBench
        folder's own name (never an absolute path)."""
        return self.source.label(self)

    def fingerprint(self) -> str:
        """The identity of the data, known without opening it (``DataSource.fingerprint``)."""
        return self.source.fingerprint(self)

    def ensure_folder(self) -> Path:
        """The folder holding the LandBench layout to read; for the synthetic world, written into
        the cache first where it is not there yet (which takes a minute or more)."""
        return self.source.folder(self)


def open_data(settings: DataSettings, variables: Iterable[str] | VariableChoice | None = None,
              years: tuple[int, int] | None = None) -> xr.Dataset:
    """The gridded data of ``settings`` in hydrolib's units (``open_landbench``), for
    ``variables`` (long names, or a ``VariableChoice`` of required and optional ones; default
    the reader's) and ``years`` (default all of them)."""
    return settings.source.open(settings, variables, years)


def netcdf_available() -> bool:
    """Whether a netCDF engine is installed (the GPU machines have none)."""
    try:
        import netCDF4  # noqa: F401
    except ImportError:
        return False
    return True


def world_in_memory() -> bool:
    """Whether ``$HYDROLIB_WORLD_IN_MEMORY`` asks for the synthetic world's training arrays to be
    built in memory even where netCDF is installed: on a GPU machine the files the chapters read
    can then be written beside the training (``python -m hydrolib synthetic``) instead of before it."""
    import os

    return os.environ.get("HYDROLIB_WORLD_IN_MEMORY", "").strip() not in ("", "0")


@functools.lru_cache(maxsize=1)
def _world_in_memory(resolution: float, years: tuple[int, int], seed: int, world: str):
    """The synthetic world's land arrays built in memory, kept for the next preparation in this
    process: the data-scarcity runs prepare the same world under other settings."""
    from hydrolib.data.synthetic import land_arrays_in_memory

    return land_arrays_in_memory(resolution, years, seed, world=world)


def load_prepared(settings: DataSettings, config: PrepareConfig | None = None,
                  variables: VariableChoice | None = None) -> Prepared:
    """Training arrays of ``settings`` (``prepare``), cached under ``<cache>/prepared``.

    ``variables``: what to open (``landbench.run_variables``: a run's targets, the inputs, and
    runoff where the balance needs it); default every target and input. Without a netCDF
    engine, or with ``$HYDROLIB_WORLD_IN_MEMORY`` set (``world_in_memory``), the synthetic world,
    which has every variable, is built in memory instead of from its files; the numbers are the same.
    """
    from hydrolib.data.prepare import PrepareConfig, prepare, prepare_cached

    config = config or PrepareConfig()
    cache = cache_dir() / "prepared"
    fingerprint = settings.fingerprint()
    if settings.synthetic and (not netcdf_available() or world_in_memory()):
        return prepare_cached(lambda: _world_in_memory(settings.resolution, tuple(settings.years), settings.world_seed,
                                                       settings.world), fingerprint, config, cache)
    cached = _prepared_without_opening(settings, config, variables, cache, fingerprint)
    if cached is not None:
        return cached
    return prepare(open_data(settings, variables), config, cache, fingerprint)


def prepare_all(settings: DataSettings,
                requests: Iterable[tuple[PrepareConfig, VariableChoice | None]], progress: bool = False) -> None:
    """Write the prepared cache of each (config, variables) of ``requests`` that the cache
    lacks, reading the data once for all of them; with ``progress``, a bar counts them (tqdm,
    on stderr, with the time left).

    The preparations of one data set under several settings (the data-scarcity runs' kept
    years and held-out climates) differ only in splits, cell subsets and normalisation.
    Opening the files and stacking the land cells (``prepare.land_arrays``) took 84 s of the
    95 s of one quick preparation on a 2-core machine, and is shared here by every request
    whose ``variables`` (as ``load_prepared`` takes them) give the same variables on disk —
    runs that require different variables usually hold the same ones, the others being
    optional. ``load_prepared`` then finds each in the cache.
    """
    from hydrolib.data.landbench import variables_on_disk
    from hydrolib.data.prepare import land_arrays, prepare_cached
    from hydrolib.data.prepared import held_variables

    requests = list(dict.fromkeys(requests))
    if settings.synthetic and (not netcdf_available() or world_in_memory()):
        for config, variables in requests:  # the world in memory is built once and kept (_world_in_memory)
            load_prepared(settings, config, variables)
        return
    cache = cache_dir() / "prepared"
    fingerprint = settings.fingerprint()
    root = settings.ensure_folder()
    by_holding: dict[tuple, list] = {}
    for config, variables in requests:
        names = variables_on_disk(root, settings.resolution, settings.years, variables)
        if names is not None and _cached_prepared(config, names, cache, fingerprint) is not None:
            continue
        holding = held_variables(names) if names is not None else ("unknown", variables)
        by_holding.setdefault(holding, []).append((config, variables))
    from tqdm import tqdm

    total = sum(len(missing) for missing in by_holding.values())
    with tqdm(total=total, desc="preparing the data", unit="preparation", disable=not progress or total == 0,
              bar_format="{desc}: {n_fmt}/{total_fmt} |{bar:20}| {elapsed} elapsed, {remaining} left{postfix}") as bar:
        for missing in by_holding.values():
            bar.set_postfix_str("reading the data once")
            dataset = open_data(settings, missing[0][1])  # a required variable without files is named here
            raw = land_arrays(dataset, fingerprint)  # read only: prepare_arrays works on copies
            bar.set_postfix_str("")
            for config, _ in missing:
                prepare_cached(lambda: raw, fingerprint, config, cache, held_variables(dataset.data_vars))
                bar.update()


class _NotCached(Exception):
    """The prepared cache has no entry: the data must be opened after all."""


def _not_cached():
    raise _NotCached


def _prepared_without_opening(settings: DataSettings, config, variables, cache: Path, fingerprint: str):
    """The prepared arrays from the cache, found with the variables the files show the data
    hold (``landbench.variables_on_disk``) instead of opening them; None when the cache has no
    such entry. Every training run in a worker process loads the prepared data: with the
    quick world's files opened each time that took 10.5–11.9 s, found this way 1.6–1.9 s."""
    from hydrolib.data.landbench import variables_on_disk

    names = variables_on_disk(settings.ensure_folder(), settings.resolution, settings.years, variables)
    return None if names is None else _cached_prepared(config, names, cache, fingerprint)


def _cached_prepared(config, names, cache: Path, fingerprint: str):
    """The prepared arrays of data holding ``names`` under ``config`` from the cache; None if absent."""
    from hydrolib.data.prepare import prepare_cached
    from hydrolib.data.prepared import held_variables

    try:
        return prepare_cached(_not_cached, fingerprint, config, cache, held_variables(names))
    except _NotCached:
        return None
