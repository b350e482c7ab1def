"""Results as data: each chapter's analysis turns runs into a small bundle the chapter only narrates and plots.

A chapter's results are computed by one library function (``RESULTS``, each in
``hydrolib.study.chapters``) from runs and data, and written as a bundle (``hydrolib.system.bundles``:
tables as CSV, arrays as netCDF, plain values as JSON) with its provenance: the commit, the
fingerprint of the code that computes it (``hydrolib.system.code``, what its module imports), the
runs it read (each run's configuration and folder, whose key holds the training code and the
data), the data's fingerprint, the device, torch's version, the date, the command and the
seconds it took. The notebooks read bundles only: a book built from results needs no GPU, no
training and no data.

Where results live (``results_folder``): the paper profile with its own settings and seed 0 in the
repository's ``results/paper/`` (committed: the published book is built from it); every other
profile or setting in the cache, under a hash of profile, seed and settings. ``stale_results``
says which committed results the current code would no longer produce, and how to regenerate them.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from hydrolib.system.bundles import load_bundle, save_bundle
from hydrolib.system.code import changed_modules, closure_fingerprint, import_closure, module_fingerprints

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMITTED_PROFILE = "paper"  # whose results the repository holds, for its own settings and seed 0
PROVENANCE = "provenance"


@dataclass
class Context:
    """What a chapter's results function computes from: the profile, the first training seed, the
    run settings (``hydrolib.experiments.run``'s) and the device runs missing from the store are
    trained on. Runs and prepared data are loaded once and kept; every run read is recorded."""

    profile: str
    seed: int = 0
    settings: dict = field(default_factory=dict)
    device: str = "cpu"
    read: dict = field(default_factory=dict)  # run folder name -> its configuration (plain data)
    _runs: dict = field(default_factory=dict, repr=False)
    _prepared: dict = field(default_factory=dict, repr=False)

    @property
    def seeds(self) -> list[int]:
        """The training seeds compared across: ``seed`` and the profile's further ones."""
        from hydrolib.experiments.plan import training_seeds

        return training_seeds(self.profile, self.seed)

    def run(self, name: str, seed: int | None = None, **extra):
        """Run ``name`` with training seed ``seed`` (default the first) and ``extra`` settings
        (e.g. ``train_years=1``), trained where the store lacks it."""
        from hydrolib.experiments import run

        seed = self.seed if seed is None else seed
        key = (name, seed, tuple(sorted(extra.items())))
        if key not in self._runs:
            result = run(name, self.profile, device=self.device, progress=False, seed=seed,
                         **{**self.settings, **extra})
            self.read[result.folder.name] = result.config.to_dict()
            self._runs[key] = result
        return self._runs[key]

    def runs(self, names: Iterable[str], seed: int | None = None, **extra) -> dict:
        """``run`` for several experiments: {name: Run}."""
        return {name: self.run(name, seed, **extra) for name in names}

    def config(self, name: str = "mtl-none", **extra):
        """The configuration of run ``name`` of this context (nothing opened or trained)."""
        from hydrolib.experiments import RunConfig

        return RunConfig.build(name, self.profile, seed=self.seed, **{**self.settings, **extra})

    def prepared(self, name: str = "mtl-none", **extra):
        """The prepared data run ``name`` reads (with ``extra`` settings), loaded once."""
        from hydrolib.data.source import load_prepared

        config = self.config(name, **extra)
        key = (config.data, config.prepare)
        if key not in self._prepared:
            self._prepared[key] = load_prepared(config.data, config.prepare)
        return self._prepared[key]

    @property
    def data(self):
        """The data's settings (``hydrolib.experiments.config.data_settings``)."""
        from hydrolib.experiments.config import data_settings

        return data_settings(self.profile, **self.settings)


@dataclass(frozen=True)
class ResultSpec:
    """One chapter's results: its ``name`` (the chapter's notebook name), the module whose
    ``compute(context) -> dict`` makes them, and what they hold, in a sentence."""

    name: str
    module: str
    description: str

    def function(self) -> Callable[[Context], dict]:
        import importlib

        return importlib.import_module(self.module).compute

    def code_modules(self) -> tuple[str, ...]:
        """The modules that compute these results: the module and what it imports, up to the
        training of runs (``RUN_BOUNDARY``)."""
        return import_closure((self.module,), RUN_BOUNDARY)

    def code_fingerprint(self) -> str:
        """The fingerprint of the code that computes these results (``code_modules``)."""
        return closure_fingerprint((self.module,), RUN_BOUNDARY)


RESULTS: dict[str, ResultSpec] = {}

# Training is outside a result's code: the runs a result read are checked by their keys instead,
# which hold the training code's own fingerprint and the data's (``stale_results``).
RUN_BOUNDARY = ("hydrolib.experiments", *sorted(f"hydrolib.experiments.{path.stem}"
                                             for path in (REPO_ROOT / "hydrolib" / "experiments").glob("*.py")
                                             if path.stem != "__init__"))


def register_result(spec: ResultSpec) -> ResultSpec:
    if spec.name in RESULTS:
        raise ValueError(f"results called {spec.name!r} are registered already")
    RESULTS[spec.name] = spec
    return spec


def _settings_key(profile: str, seed: int, settings: dict) -> str:
    payload = json.dumps({"profile": profile, "seed": seed, "settings": settings}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def results_folder(profile: str, seed: int = 0, **settings) -> Path:
    """Where the results of ``profile`` with ``seed`` and run ``settings`` live: the repository's
    ``results/paper`` for the paper profile as it is (seed 0, no settings), else the cache."""
    if profile == COMMITTED_PROFILE and seed == 0 and not settings:
        return REPO_ROOT / "results" / profile
    from hydrolib.data.source import cache_dir

    return cache_dir() / "results" / f"{profile}-{_settings_key(profile, seed, settings)}"


def _commit() -> str:
    """The repository's commit, with ``+changes`` where the working tree differs from it (a copy of
    a working tree, as a GPU machine is sent, may carry an older commit's metadata): the code
    fingerprints, not the commit, are what identify the code."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        changes = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "hydrolib"],
                                 cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if changes else "")


def compute_results(profile: str, seed: int = 0, device: str = "cpu", names: Iterable[str] | None = None,
                    command: str = "", **settings) -> Path:
    """Compute the results ``names`` (default all, ``RESULTS``) of ``profile`` and write each as a
    bundle with its provenance under ``results_folder``; runs the store lacks are trained on
    ``device``. Returns the folder."""
    import torch

    from hydrolib import __version__

    folder = results_folder(profile, seed, **settings)
    for name in (list(names) if names is not None else list(RESULTS)):
        if name not in RESULTS:
            raise ValueError(f"unknown results {name!r}; expected one of {', '.join(RESULTS)}")
        spec = RESULTS[name]
        context = Context(profile, seed, dict(settings), device)
        started = time.perf_counter()
        entries = spec.function()(context)
        entries[PROVENANCE] = {
            "result": name, "code": spec.code_fingerprint(), "modules": module_fingerprints(spec.code_modules()),
            "commit": _commit(), "profile": profile, "seed": seed,
            "settings": settings, "data": context.data.fingerprint(), "runs": context.read, "device": device,
            "device_name": torch.cuda.get_device_name() if device.startswith("cuda") else platform.processor(),
            "torch": torch.__version__, "hydrolib": __version__, "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "command": command or " ".join(sys.argv),
            "seconds": round(time.perf_counter() - started, 1),
        }
        save_bundle(folder / name, entries)
    return folder


def load_results(name: str, profile: str, seed: int = 0, **settings) -> dict:
    """The results bundle ``name`` of ``profile`` (``results_folder``); a ``FileNotFoundError``
    names the command that computes them."""
    folder = results_folder(profile, seed, **settings) / name
    if not folder.exists():
        raise FileNotFoundError(f"no results {name!r} for the {profile} profile in {folder}: compute them with "
                                f"{regenerate_command(profile, seed, settings)}")
    return load_bundle(folder)


def regenerate_command(profile: str, seed: int = 0, settings: dict | None = None) -> str:
    """The command that computes ``profile``'s results again (on a GPU for the paper profile)."""
    extra = "".join(f" --set {k}={v}" for k, v in (settings or {}).items())
    device = " --device cuda" if profile == COMMITTED_PROFILE else ""
    return f"python -m hydrolib results --profile {profile}{device}" + (f" --seed {seed}" if seed else "") + extra


def results_provenance(name: str, profile: str, seed: int = 0, **settings) -> dict | None:
    """The provenance of results bundle ``name`` of ``profile`` (read from its values alone), or
    None where they have not been computed."""
    values = results_folder(profile, seed, **settings) / name / "values.json"
    if not values.exists():
        return None
    return json.loads(values.read_text()).get(PROVENANCE)


def describe_provenance(provenance: dict) -> str:
    """One line a reader can check the numbers by: where, when and by which code they were computed."""
    where = provenance.get("device_name") or provenance.get("device", "?")
    if provenance.get("device") and provenance.get("device_name"):
        where = f"{provenance['device_name']} ({provenance['device']})"
    commit = str(provenance.get("commit", "unknown"))[:10]
    return (f"computed {provenance.get('date', '?')} on {where}, torch {provenance.get('torch', '?')}, "
            f"hydrolib {provenance.get('hydrolib', '?')} at commit {commit}, in {provenance.get('seconds', '?')} s "
            f"from {len(provenance.get('runs', {}))} runs; code {provenance.get('code', '?')}")


def stale_results(profile: str = COMMITTED_PROFILE, folder: Path | None = None) -> list[str]:
    """Why each results bundle in ``folder`` (default the committed ones) would not be produced
    again by the current code, each line naming what changed and the command that regenerates
    it: the code that computes it (the modules named), or a run it read, whose key would now
    differ (the training code or the data changed). Empty when all are current."""
    from hydrolib.experiments import RunConfig

    folder = folder or results_folder(profile)
    problems = []
    for name, spec in RESULTS.items():
        bundle = folder / name
        if not bundle.exists():
            problems.append(f"{name}: missing in {folder}; compute it with {regenerate_command(profile)}")
            continue
        provenance = json.loads((bundle / "values.json").read_text())[PROVENANCE]
        command = regenerate_command(provenance.get("profile", profile), provenance.get("seed", 0),
                                     provenance.get("settings"))
        if provenance["code"] != spec.code_fingerprint():
            changed = changed_modules(provenance.get("modules", {}), module_fingerprints(spec.code_modules()))
            problems.append(f"{name}: computed by other code (changed: {', '.join(changed) or 'unknown'}); "
                            f"regenerate with {command}")
        for run_folder, config in provenance["runs"].items():
            key = RunConfig.from_dict(config).key()
            if not run_folder.endswith(key):
                problems.append(f"{name}: run {run_folder} would now have key {key} (the training code or the data "
                                f"changed); regenerate with {command}")
                break
    return problems
