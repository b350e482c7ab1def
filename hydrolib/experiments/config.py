"""One typed, validated configuration per run, and the cache key derived from it.

``RunConfig.build(name, profile, **settings)`` starts from the profile's sizes and the
experiment's declaration and applies ``settings`` by name (``epochs=5``,
``balance_weight=0.5``, ``resolution=1``, ``data_root=...``); an unknown name is refused with
the list of known ones, and every value is checked (type, sign, range) before any data are
opened. The configuration is frozen; ``RunConfig.key`` hashes it together with the data's
fingerprint and a fingerprint of the library code that decides a run, so a change to any of
them trains anew and nothing stale is returned.
"""

from __future__ import annotations

import hashlib
import json
import math
import typing
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from hydrolib.data.alignment import input_lag
from hydrolib.data.periods import training_years
from hydrolib.data.prepare import PrepareConfig
from hydrolib.data.source import DataSettings
from hydrolib.experiments.profiles import PROFILES, get_profile
from hydrolib.experiments.registry import EXPERIMENTS, Experiment, get_experiment
from hydrolib.models.constraints import PhysicsConfig
from hydrolib.models.weights import chosen_weights, provenance
from hydrolib.system.code import closure_fingerprint, import_closure
from hydrolib.training.trainer import TrainConfig, TrainSettings

# The code that decides a trained run: everything training a run imports (``hydrolib.system.code``),
# from the module that trains one. Scores are computed from a finished run's predictions when asked
# (``hydrolib.experiments.store``), so the scoring code is where the walk stops.
TRAINING_ENTRY = ("hydrolib.experiments.runner",)
SCORING_CODE = ("hydrolib.evaluation.scores",)
# Modules whose values every run's configuration records in full, so that the key already holds
# what they decide: a profile's sizes are copied into RunConfig's sections. Changing the quick
# profile then retrains the quick runs (their sizes changed) and leaves the paper runs, and the
# results committed from them, as they are.
RECORDED_IN_CONFIG = ("hydrolib.experiments.profiles",)


class SettingError(ValueError):
    """A run setting that is unknown, of the wrong type or out of range; the message names it."""


def _positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingError(f"setting {name!r} must be a positive whole number; got {value!r}")


@dataclass(frozen=True)
class NetworkSettings:
    """Network sizes: LSTM hidden units (the residual network gets half, at least 8) and the
    dropout rate on the LSTM's outputs."""

    hidden: int
    dropout: float

    def __post_init__(self):
        _positive_int("hidden", self.hidden)
        if not 0.0 <= self.dropout < 1.0:
            raise SettingError(f"setting 'dropout' must lie in [0, 1); got {self.dropout!r}")


SECTIONS = {"data": DataSettings, "prepare": PrepareConfig, "network": NetworkSettings,
            "training": TrainSettings, "physics": PhysicsConfig}
# Settings that the configuration decides itself, not the user.
DERIVED = {("prepare", "seed"), ("physics", "mode"), ("physics", "weights_chosen_by")}


def known_settings() -> dict[str, str]:
    """Every setting a run takes by name, with the section that holds it."""
    known = {"seed": "run"}
    for section, cls in SECTIONS.items():
        known |= {f.name: section for f in fields(cls) if (section, f.name) not in DERIVED}
    return known


def _check_type(name: str, value, annotation) -> object:
    """``value`` as the setting's declared type (an int is a float; a list is a tuple), or an
    error naming the setting."""
    kind = typing.get_origin(annotation) or annotation
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is tuple and isinstance(value, list):
        value = tuple(value)
    if kind is tuple and isinstance(value, str):  # one name where a tuple of names is declared
        value = (value,)
    if kind is str and isinstance(value, Path):
        value = str(value)
    if isinstance(kind, type) and not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
        raise SettingError(f"setting {name!r} must be of type {getattr(kind, '__name__', kind)}; "
                         f"got {value!r} ({type(value).__name__})")
    if kind is float and not math.isfinite(value):
        raise SettingError(f"setting {name!r} must be a finite number; got {value!r}")
    return value


DAYS_PER_YEAR = 365  # the fewest days a calendar year holds: the bounds below never refuse what fits


def _check_sizes(data: DataSettings, prepare: PrepareConfig, training: TrainSettings) -> None:
    """Refuse, before any data are opened, a window longer than the training period and a batch
    larger than the windows any data of this grid and these years could hold.

    A training window needs ``seq_len`` days of input up to its target day (one more with the
    ``forecast`` alignment), all inside the training years it may read (the kept ones under
    ``train_years``); the training years hold at least 365 days each. Windows are drawn from
    (cell, day) pairs: at most every cell of the grid (land is fewer) on every training day.
    """
    first, last = data.years
    years = prepare.train_years or training_years(data.years, prepare.validation_years, prepare.test_years)
    days = max(years, 0) * DAYS_PER_YEAR
    lag = input_lag(training.alignment)
    if training.seq_len + lag > days:
        raise SettingError(f"setting 'seq_len' = {training.seq_len} days does not fit in the training period: years "
                           f"{first}–{last} less {prepare.validation_years} validation and {prepare.test_years} test "
                           f"year(s) leave {years} training year(s) (at least {days} days), and a window needs "
                           f"seq_len{' + 1' if lag else ''} of them. Use seq_len={max(days - lag, 1)} or less, or "
                           f"more years.")
    cells = int(round(180 / data.resolution)) * int(round(360 / data.resolution))
    windows = cells * (days + DAYS_PER_YEAR)  # leap days and a partial year: never refuse what fits
    if training.batch_size > windows:
        raise SettingError(f"setting 'batch_size' = {training.batch_size} is more windows than the data can hold: a "
                           f"{data.resolution:g}° grid has {cells} cells and {years} training year(s), at most "
                           f"{windows} (cell, day) windows. Use a batch of a few hundred (the profiles use "
                           f"{', '.join(f'{p.batch_size} in {name}' for name, p in PROFILES.items())}).")


def _check_train_years(data: DataSettings, prepare: PrepareConfig) -> None:
    """Refuse ``train_years`` beyond the training years the record holds (the years asked
    for less the validation and test years), before any data are opened."""
    first, last = data.years
    available = training_years(data.years, prepare.validation_years, prepare.test_years)
    if prepare.train_years > available:
        raise SettingError(f"setting 'train_years' = {prepare.train_years} asks for more training years than the "
                           f"data hold: years {first}–{last} less {prepare.validation_years} validation and "
                           f"{prepare.test_years} test year(s) leave {available}; use 1 … {available}, or 0 for all")


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides a run: experiment, seed and one frozen section per concern."""

    experiment: str
    profile: str
    seed: int
    data: DataSettings
    prepare: PrepareConfig
    network: NetworkSettings
    training: TrainSettings
    physics: PhysicsConfig

    @classmethod
    def build(cls, name: str, profile: str = "quick", **settings) -> "RunConfig":
        """The configuration of run ``name`` in ``profile`` with ``settings`` applied by name
        (see ``known_settings``); raises ``ValueError`` naming an unknown or invalid setting."""
        try:
            experiment, p = get_experiment(name), get_profile(profile)
        except ValueError as error:
            raise SettingError(str(error)) from None
        known = known_settings()
        unknown = sorted(set(settings) - set(known))
        if unknown:
            raise SettingError(f"unknown setting{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                             f"known settings: {', '.join(sorted(known))}")
        seed = settings.pop("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise SettingError(f"setting 'seed' must be a whole number >= 0; got {seed!r}")
        values = {
            "data": {"resolution": p.resolution, "years": p.years},
            "prepare": {"seed": seed},
            "network": {"hidden": p.hidden, "dropout": p.dropout},
            "training": {k: getattr(p, k) for k in ("seq_len", "batch_size", "epochs", "iterations_per_epoch",
                                                    "validation_batches", "patience", "supervised_days",
                                                    "learning_rate")},
            "physics": {"mode": experiment.constraint, **chosen_weights(experiment.constraint)},
        }
        for key, value in settings.items():
            section = known[key]
            hints = typing.get_type_hints(SECTIONS[section])
            values[section][key] = _check_type(key, value, hints[key])
        weights = {f.name: values["physics"].get(f.name, f.default) for f in fields(PhysicsConfig)
                   if f.name in ("balance_weight", "window_balance_weight", "epsilon_weight")}
        values["physics"]["weights_chosen_by"] = provenance(experiment.constraint, weights)
        try:
            sections = {section: SECTIONS[section](**kwargs) for section, kwargs in values.items()}
        except ValueError as error:  # a section's own check: it names the setting
            raise SettingError(str(error)) from None
        _check_train_years(sections["data"], sections["prepare"])
        if experiment.same_day_only and sections["training"].alignment != "simulation":
            raise SettingError(f"setting 'alignment' = {sections['training'].alignment!r}: {name} balances the "
                               "precipitation of the day it predicts, which only 'simulation' windows hold")
        _check_sizes(sections["data"], sections["prepare"], sections["training"])
        return cls(experiment=name, profile=profile, seed=seed, **sections)

    @property
    def spec(self) -> Experiment:
        """The experiment's declaration."""
        return get_experiment(self.experiment)

    def to_dict(self) -> dict:
        """Plain data (JSON-ready), section by section."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "RunConfig":
        """The inverse of ``to_dict`` (e.g. from a run folder's ``config.json``)."""
        sections = {name: SECTIONS[name](**{k: tuple(v) if isinstance(v, list) else v for k, v in data[name].items()})
                    for name in SECTIONS}
        return cls(experiment=data["experiment"], profile=data["profile"], seed=data["seed"], **sections)

    def identity(self) -> dict:
        """What the cache key hashes: the configuration without where the data lie (the data's
        fingerprint stands for them) and without the profile's name (its sizes are in it)."""
        identity = self.to_dict()
        identity.pop("profile")
        identity["data"].pop("data_root")
        identity["physics"].pop("weights_chosen_by")  # words about the weights; the weights themselves stay
        return identity

    def key(self, data_fingerprint: str | None = None) -> str:
        """16 hex digits: a hash of ``identity()``, the data's fingerprint and the code's."""
        payload = json.dumps({"config": self.identity(), "data": data_fingerprint or self.data.fingerprint(),
                              "code": code_fingerprint()}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def train_config(self, device: str = "cpu", progress: bool = True) -> TrainConfig:
        """The Trainer's configuration for this run on ``device``."""
        return TrainConfig(**asdict(self.training), seed=self.seed, device=str(device), progress=progress)

    def settings(self) -> dict:
        """Every setting by name (``known_settings``), as ``build`` takes them."""
        flat = {"seed": self.seed}
        for section in SECTIONS:
            flat |= {k: v for k, v in asdict(getattr(self, section)).items() if (section, k) not in DERIVED}
        return flat

    def with_settings(self, **settings) -> "RunConfig":
        """A copy with ``settings`` changed, validated as in ``build``."""
        return RunConfig.build(self.experiment, self.profile, **{**self.settings(), **settings})


def code_that_decides_a_run() -> tuple[str, ...]:
    """The modules whose code is part of every run's cache key: what ``TRAINING_ENTRY`` imports,
    up to the scoring code and the modules whose values the configuration records
    (``RECORDED_IN_CONFIG``; ``hydrolib.system.code.import_closure``)."""
    return import_closure(TRAINING_ENTRY, SCORING_CODE + RECORDED_IN_CONFIG)


def code_fingerprint() -> str:
    """16 hex digits: a hash of the code that decides a trained run (``code_that_decides_a_run``),
    comments and docstrings left out."""
    return closure_fingerprint(TRAINING_ENTRY, SCORING_CODE + RECORDED_IN_CONFIG)


def versions() -> dict[str, str]:
    """Versions of hydrolib, Python, torch and numpy, for a run folder's record."""
    import platform

    import numpy
    import torch

    import hydrolib

    return {"hydrolib": hydrolib.__version__, "code": code_fingerprint(), "python": platform.python_version(),
            "torch": torch.__version__, "numpy": numpy.__version__}


def data_settings(profile: str = "quick", **settings) -> DataSettings:
    """The data a run of ``profile`` with run ``settings`` reads: the profile's grid and years with
    the data settings among ``settings`` (``resolution``, ``years``, ``world_seed``, ``data_root``)
    applied, exactly as ``RunConfig.build`` makes its ``data`` section — the one route from settings
    to data for runs, chapters, the banner and the book build. Every setting is checked; those that
    are not the data's are otherwise ignored. Nothing is opened."""
    return RunConfig.build(next(iter(EXPERIMENTS)), profile, **settings).data
