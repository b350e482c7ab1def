"""The banner at the top of every chapter: what built this page.

A reader must see at a glance which profile, grid, years, network and seeds produced the
numbers below, and from which data, so that a smoke build's numbers are never taken for
results. Every notebook calls ``show_banner(globals())`` in the cell after its parameters.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

SMOKE_WARNING = ("This page was built with the smoke profile: a tiny grid, a few days of training and two "
                 "epochs, to check that the code runs. Its numbers are not results and say nothing about the "
                 "study's claims; build the quick or paper profile for those.")


def year_split(years: tuple[int, int], validation_years: int, test_years: int) -> dict[str, tuple[int, int]]:
    """Calendar years of training, validation and test, counted back from the last year (as
    ``prepare.split_periods`` splits whole years): ``(2000, 2020)`` with one validation and one
    test year gives training 2000–2018, validation 2019, test 2020. Validation is absent when
    ``validation_years`` is 0."""
    first, last = years
    test_first = last - test_years + 1
    validation_first = test_first - validation_years
    if validation_first <= first:
        raise ValueError(f"years {first}–{last} leave no training year with validation_years={validation_years} "
                         f"and test_years={test_years}")
    split = {"training": (first, validation_first - 1)}
    if validation_years:
        split["validation"] = (validation_first, test_first - 1)
    split["test"] = (test_first, last)
    return split


def _span(years: tuple[int, int]) -> str:
    return str(years[0]) if years[0] == years[1] else f"{years[0]}–{years[1]}"


def banner_facts(values: Mapping[str, object]) -> dict[str, str]:
    """What built the page, as label → text, from a chapter's parameters (``profile``, ``seed``,
    ``data_root``, ``world_seed``, ``resolution``, ``first_year``/``last_year``,
    ``validation_years``, ``test_years``; 0 or empty: the profile's)."""
    from hydrolib.data.prepare import PrepareConfig
    from hydrolib.data.source import data_settings
    from hydrolib.experiments.plan import training_seeds
    from hydrolib.parameters import run_settings
    from hydrolib.profiles import get_profile

    profile = get_profile(str(values["profile"]))
    settings = run_settings(values)
    data = data_settings(profile.name, data_root=settings["data_root"], world_seed=settings["world_seed"],
                         resolution=settings.get("resolution"), years=settings.get("years"))
    defaults = PrepareConfig()
    split = year_split(data.years, int(settings.get("validation_years", defaults.validation_years)),
                       int(settings.get("test_years", defaults.test_years)))
    seeds = training_seeds(profile.name, int(values.get("seed", 0)))
    return {
        "profile": profile.name,
        "data": data.source_name,  # the LandBench folder's name or the synthetic world, never a path
        "grid": f"{data.resolution:g}°",
        "years": "; ".join(f"{part} {_span(span)}" for part, span in split.items()),
        "network": f"LSTM, {profile.hidden} hidden units, {profile.seq_len}-day input windows",
        "epochs": f"at most {profile.epochs} × {profile.iterations_per_epoch} batches of {profile.batch_size} "
                  f"(early stopping after {profile.patience})",
        "training seeds": ", ".join(map(str, seeds)),
    }


def banner_html(values: Mapping[str, object]) -> str:
    """The banner's HTML: the facts of ``banner_facts`` in a note box and, for the smoke profile,
    a warning box above it. Admonition classes, so the book's theme styles them."""
    facts = banner_facts(values)
    rows = "".join(f'<tr><th style="text-align:left;padding:0.15em 1em 0.15em 0;font-weight:600">{html.escape(k)}</th>'
                   f'<td style="padding:0.15em 0.5em">{html.escape(v)}</td></tr>' for k, v in facts.items())
    parts = []
    if facts["profile"] == "smoke":
        parts.append('<div class="admonition warning hydrolib-smoke"><p class="admonition-title">Smoke build: '
                     f'not results</p><p>{html.escape(SMOKE_WARNING)}</p></div>')
    parts.append('<div class="admonition note hydrolib-banner"><p class="admonition-title">How this page was '
                 f'built</p><table style="border:none;margin:0">{rows}</table></div>')
    return "".join(parts)


def show_banner(values: Mapping[str, object]) -> None:
    """Display the banner in a notebook: ``show_banner(globals())`` after the parameters."""
    from IPython.display import HTML, display

    display(HTML(banner_html(values)))
