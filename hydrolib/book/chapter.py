"""The start every chapter shares: its parameters checked, the banner shown, and what follows from them.

A chapter's first code cell after its ``parameters`` cell is one call::

    from hydrolib.book.chapter import start_chapter
    chapter = start_chapter(globals(), 3)

It checks every parameter against its declared type (``hydrolib.book.parameters``), shows the
banner that says what built the page (``hydrolib.book.banner``), sets the figures' style and
returns a ``Chapter``: the run settings the parameters give (the one route from a chapter's
parameters to its runs and data, also taken by the banner and the book build), the data they
name, the training seeds, the profile's sizes and the chapter's numbered tables.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hydrolib.book.banner import show_banner
from hydrolib.book.parameters import BOOK_PARAMETERS, check_parameters, run_settings
from hydrolib.book.tables import Tables

if TYPE_CHECKING:
    from hydrolib.data.source import DataSettings
    from hydrolib.experiments import Profile, Run


@dataclass(frozen=True)
class Chapter:
    """What a chapter's parameters decide: ``profile``, ``device``, the first training ``seed``
    and the run ``settings`` (``run_settings``: the world's seed, a LandBench folder, the grid,
    the years and their split, where set), with its numbered ``tables``."""

    number: int
    profile: str
    device: str
    seed: int
    settings: dict = field(default_factory=dict)
    tables: Tables | None = None

    @property
    def run_keywords(self) -> dict:
        """Keywords for ``hydrolib.experiments.run``/``load_runs``: the device and the run settings."""
        return {"device": self.device, **self.settings}

    @property
    def data(self) -> DataSettings:
        """The data the chapter's runs read (``hydrolib.experiments.config.data_settings``)."""
        from hydrolib.experiments.config import data_settings

        return data_settings(self.profile, **self.settings)

    @property
    def seeds(self) -> list[int]:
        """The training seeds compared across: ``seed`` and the profile's further ones."""
        from hydrolib.experiments.plan import training_seeds

        return training_seeds(self.profile, self.seed)

    @property
    def sizes(self) -> Profile:
        """The profile's sizes (grid, years, network, training)."""
        from hydrolib.experiments.profiles import get_profile

        return get_profile(self.profile)

    def _own_results(self) -> list[str]:
        """The results bundles named after this chapter (``03_stl_vs_mtl`` for chapter 3): one for
        every chapter of the book."""
        import hydrolib.study.chapters  # noqa: F401  (registers every chapter's results)
        from hydrolib.study.results import RESULTS

        return [n for n in RESULTS if n.startswith(f"{self.number:02d}_")]

    def results(self, name: str | None = None) -> dict:
        """The results bundle ``name`` (default this chapter's, e.g. ``03_stl_vs_mtl``) of the
        chapter's profile, seed and settings (``hydrolib.study.results``)."""
        from hydrolib.study.results import RESULTS, load_results

        if name is None:
            matches = self._own_results()
            if len(matches) != 1:
                raise ValueError(f"chapter {self.number} has no results of its own; name them ({', '.join(RESULTS)})")
            name = matches[0]
        return load_results(name, self.profile, self.seed, **self.settings)

    def study_scale_results(self, name: str | None = None) -> dict | None:
        """The committed paper-profile results bundle ``name`` (default this chapter's) for a
        chapter built with another profile, so that it can say where its answer differs from the
        study's scale; None where this chapter is the paper profile's, where it reads other data
        (its run settings: another world, a LandBench folder, other years) or where they are not
        committed."""
        from hydrolib.study.results import COMMITTED_PROFILE, load_results, results_folder

        if self.profile == COMMITTED_PROFILE or self.settings:
            return None
        name = name or next(iter(self._own_results()), "")
        if not name or not (results_folder(COMMITTED_PROFILE) / name).exists():
            return None
        return load_results(name, COMMITTED_PROFILE)

    def runs(self, names, seed: int | None = None) -> dict[str, Run]:
        """The runs ``names`` of this chapter's profile and settings with training seed ``seed``
        (default the chapter's), trained where the store lacks them."""
        from hydrolib.experiments import load_runs

        return load_runs(list(names), self.profile, seed=self.seed if seed is None else seed, **self.run_keywords)


def chapter_of(values: Mapping[str, object], number: int = 0) -> Chapter:
    """The ``Chapter`` that checked parameter ``values`` (as ``check_parameters`` returns them) give."""
    return Chapter(number=number, profile=str(values["profile"]), device=str(values.get("device", "cpu")),
                   seed=int(values.get("seed", 0)), settings=run_settings(values),
                   tables=Tables(number) if number else None)


def start_chapter(namespace: MutableMapping[str, object], number: int,
                  extra: Mapping[str, type] | None = None) -> Chapter:
    """Check the chapter's parameters in ``namespace`` (the notebook's ``globals()``; the book's
    parameters and ``extra`` ones of its own, ``{name: type}``), put the checked values back (an
    int given for a float becomes a float), show the banner and set the figures' style; returns
    the ``Chapter``. A parameter of the wrong type is named here, before any work."""
    from hydrolib.book import plots

    checked = check_parameters(namespace, {**BOOK_PARAMETERS, **(extra or {})})
    namespace.update(checked)
    chapter = chapter_of(checked, number)
    show_banner(chapter)
    plots.use_style()
    return chapter
