"""The banner at the top of every chapter: what built this page.

A reader must see at a glance which profile, grid, years, network and seeds produced the
numbers below, and from which data, so that a smoke build's numbers are never taken for
results. Every notebook shows it through ``hydrolib.book.chapter.start_chapter`` in the cell after
its parameters.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from hydrolib.data.periods import year_split
from hydrolib.system.code import PACKAGE_DIR

REPO_ROOT = PACKAGE_DIR.parent

if TYPE_CHECKING:
    from hydrolib.book.chapter import Chapter

SMOKE_WARNING = ("This page was built with the smoke profile: a tiny grid, a few days of training and two "
                 "epochs, to check that the code runs. Its numbers are not results and say nothing about the "
                 "study's claims; build the quick or paper profile for those.")


def _span(years: tuple[int, int]) -> str:
    return str(years[0]) if years[0] == years[1] else f"{years[0]}–{years[1]}"


def banner_facts(chapter: Chapter) -> dict[str, str]:
    """What built the page, as label → text, from a chapter's checked parameters
    (``hydrolib.book.chapter.Chapter``: its profile, seed and run settings)."""
    from hydrolib.data.prepare import PrepareConfig

    profile, data, settings = chapter.sizes, chapter.data, chapter.settings
    defaults = PrepareConfig()
    split = year_split(data.years, int(settings.get("validation_years", defaults.validation_years)),
                       int(settings.get("test_years", defaults.test_years)))
    return {
        "profile": profile.name,
        "data": data.source_name,  # the LandBench folder's name or the synthetic world, never a path
        "grid": f"{data.resolution:g}°",
        "years": "; ".join(f"{part} {_span(span)}" for part, span in split.items()),
        "network": f"LSTM, {profile.hidden} hidden units, {profile.seq_len}-day input windows",
        "epochs": f"at most {profile.epochs} × {profile.iterations_per_epoch} batches of {profile.batch_size} "
                  f"(early stopping after {profile.patience})",
        "training seeds": ", ".join(map(str, chapter.seeds)),
        **_results_facts(chapter),
    }


def _results_facts(chapter: Chapter) -> dict[str, str]:
    """The provenance of the chapter's results bundle, where it has one and it is computed."""
    import hydrolib.study.chapters  # noqa: F401  (registers every chapter's results)
    from hydrolib.study.results import RESULTS, describe_provenance, results_folder, results_provenance

    names = [n for n in RESULTS if n.startswith(f"{chapter.number:02d}_")] if chapter.number else []
    if len(names) != 1:
        return {}
    provenance = results_provenance(names[0], chapter.profile, chapter.seed, **chapter.settings)
    if provenance is None:
        return {}
    folder = results_folder(chapter.profile, chapter.seed, **chapter.settings)
    try:
        shown = str(folder.relative_to(REPO_ROOT))  # the committed results: a path a reader finds in the repository
    except ValueError:
        shown = "the cache"
    return {"results": f"{names[0]} in {shown}, {describe_provenance(provenance)}"}


def banner_html(chapter: Chapter) -> str:
    """The banner's HTML: the facts of ``banner_facts`` in a note box and, for the smoke profile,
    a warning box above it. Admonition classes, so the book's theme styles them."""
    facts = banner_facts(chapter)
    rows = "".join(f'<tr><th style="text-align:left;padding:0.15em 1em 0.15em 0;font-weight:600">{html.escape(k)}</th>'
                   f'<td style="padding:0.15em 0.5em">{html.escape(v)}</td></tr>' for k, v in facts.items())
    parts = []
    if facts["profile"] == "smoke":
        parts.append('<div class="admonition warning hydrolib-smoke"><p class="admonition-title">Smoke build: '
                     f'not results</p><p>{html.escape(SMOKE_WARNING)}</p></div>')
    parts.append('<div class="admonition note hydrolib-banner"><p class="admonition-title">How this page was '
                 f'built</p><table style="border:none;margin:0">{rows}</table></div>')
    return "".join(parts)


def show_banner(chapter: Chapter) -> None:
    """Display the banner in a notebook (``hydrolib.book.chapter.start_chapter`` does)."""
    from IPython.display import HTML, display

    display(HTML(banner_html(chapter)))
