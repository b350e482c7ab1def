"""The book's "How to cite" page, written from the repository's ``CITATION.cff`` at each build.

``CITATION.cff`` names the software (hydrolib and this book) as the citable item, which is
what GitHub's "Cite this repository" offers, and lists under ``references`` the study the book
reproduces and the data it reads. The page shows each as a sentence and as BibTeX.
"""

from __future__ import annotations

from pathlib import Path

from hydrolib.book.chapters import REPO_ROOT, BookBuildError

CITING_PAGE = "book/citing.md"  # written into the staging folder from CITATION.cff at each build

# CITATION.cff's reference types → BibTeX entry types
BIBTEX_TYPES = {"article": "article", "data": "misc", "software": "software"}


def _names(people: list[dict]) -> list[str]:
    """"Family, Given" (or an entity's name) of each CFF author."""
    return [p.get("name") or f"{p.get('family-names', '')}, {p.get('given-names', '')}".strip(", ") for p in people]


def _bibtex_authors(names: list[str], more: bool = False) -> str:
    """Authors joined with "and"; an entity's name in braces so BibTeX does not split it."""
    shown = [name if "," in name else "{" + name + "}" for name in names]
    return " and ".join(shown + (["others"] if more else []))


def _reference(item: dict, key: str) -> list[str]:
    """A ``references`` entry of CITATION.cff as a sentence and a BibTeX entry. A CFF entry
    lists the first authors; "et al." and "others" say the work has more."""
    authors = _names(item.get("authors", []))
    doi = item.get("doi", "")
    if item.get("type") == "article":
        where = f"*{item.get('journal', '')}* {item.get('volume', '')}, {item.get('start', '')}"
    else:
        where = (item.get("publisher") or {}).get("name", "")
    sentence = (f"{', '.join(authors)}, et al. ({item.get('year', '')}). {item['title']}. {where}. "
                f"doi:[{doi}](https://doi.org/{doi})")
    fields = {"author": _bibtex_authors(authors, more=True), "title": item["title"]}
    if item.get("type") == "article":
        fields |= {"journal": item.get("journal", ""), "volume": item.get("volume", ""), "pages": item.get("start", "")}
    elif item.get("publisher"):
        fields["publisher"] = item["publisher"].get("name", "")
    fields |= {"year": item.get("year", ""), "doi": doi}
    width = max(map(len, fields))
    entry = [f"@{BIBTEX_TYPES.get(item.get('type', ''), 'misc')}{{{key},"]
    entry += [f"  {name:<{width}} = {{{value}}}," for name, value in fields.items()]
    entry[-1] = entry[-1].rstrip(",")
    return [sentence, "", "```bibtex", *entry, "}", "```", ""]


def citation_page(cff: dict) -> str:
    """The "How to cite" page (MyST) from a parsed ``CITATION.cff``: the software (the citable
    item) first, then each of its ``references`` (the study, the data), each as a sentence and
    as BibTeX."""
    if cff.get("type", "software") != "software":
        raise BookBuildError(f"CITATION.cff's type is {cff.get('type')!r}: the citable item is the software "
                             "(type: software); the study it reproduces belongs under references")
    if "preferred-citation" in cff:
        raise BookBuildError("CITATION.cff has a preferred-citation: GitHub's 'Cite this repository' would offer it "
                             "instead of the software; list the study under references")
    authors = _names(cff.get("authors", []))
    version, year = cff.get("version", ""), str(cff.get("date-released", ""))[:4]
    url = cff.get("repository-code", "")
    lines = ["# How to cite", "", " ".join(str(cff.get("message", "")).split()), "",
             "## hydrolib and this book", "",
             f"{'; '.join(authors)} ({year}). *{cff['title']}* (version {version}) [software]. {url}. "
             f"License: {cff.get('license', '')}.", "",
             "```bibtex",
             "@software{hydrolib_book,",
             f"  author  = {{{_bibtex_authors(authors)}}},",
             f"  title   = {{{cff['title']}}},",
             f"  version = {{{version}}},",
             f"  year    = {{{year}}},",
             f"  url     = {{{url}}}",
             "}", "```", ""]
    headings = {"article": "The study it reproduces", "data": "The data"}
    keys = {"article": "study", "data": "landbench"}
    for item in cff.get("references", []):
        kind = item.get("type", "")
        lines += [f"## {headings.get(kind, item['title'])}", "", *_reference(item, keys.get(kind, "reference"))]
    lines += ["The text and figures of this book are licensed under CC BY 4.0, the code under the MIT licence "
              "(the repository's `LICENSE-text.md` and `LICENSE`); the other sources the chapters use are listed "
              "in {doc}`references`.", "",
              "This page is written from the repository's `CITATION.cff` when the book is built.", ""]
    return "\n".join(lines)


def write_citation_page(staging: Path, repo: Path = REPO_ROOT) -> Path:
    """Write ``staging/book/citing.md`` from ``repo/CITATION.cff``."""
    import yaml

    cff_path = repo / "CITATION.cff"
    if not cff_path.exists():
        raise BookBuildError(f"{cff_path} is missing: the book's How to cite page is written from it")
    page = staging / CITING_PAGE
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(citation_page(yaml.safe_load(cff_path.read_text())))
    return page
