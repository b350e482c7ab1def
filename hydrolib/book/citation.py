"""The book's "How to cite" page, written from the repository's ``CITATION.cff`` at each build."""

from __future__ import annotations

from pathlib import Path

from hydrolib.book.chapters import REPO_ROOT, BookBuildError

CITING_PAGE = "book/citing.md"  # written into the staging folder from CITATION.cff at each build


def citation_page(cff: dict) -> str:
    """The "How to cite" page (MyST) from a parsed ``CITATION.cff``: the book as software and the
    study it reproduces (``preferred-citation``), each as a sentence and as BibTeX."""
    def names(people: list[dict]) -> list[str]:
        return [p.get("name") or f"{p.get('family-names', '')}, {p.get('given-names', '')}".strip(", ")
                for p in people]

    book_authors = names(cff.get("authors", []))
    study = cff.get("preferred-citation")
    lines = ["# How to cite", "", cff.get("message", ""), "", "## This book and hydrolib", "",
             f"{'; '.join(book_authors)} ({str(cff.get('date-released', '2026'))[:4]}). "
             f"*{cff['title']}*, version {cff.get('version', '')}. License: {cff.get('license', '')}.", "",
             "```bibtex",
             "@software{hydrolib_book,",
             f"  author  = {{{' and '.join('{' + a + '}' if ',' not in a else a for a in book_authors)}}},",
             f"  title   = {{{cff['title']}}},",
             f"  version = {{{cff.get('version', '')}}},",
             "  year    = {2026},",
             "}", "```", ""]
    if study:
        authors = names(study.get("authors", []))
        shown = ", ".join(authors) + ", et al."  # the CFF lists the first authors; the paper has more
        doi = study.get("doi", "")
        lines += ["## The study it reproduces", "",
                  f"{shown} ({study.get('year', '')}). {study['title']}. *{study.get('journal', '')}* "
                  f"{study.get('volume', '')}, {study.get('start', '')}. doi:{doi}", "",
                  "```bibtex",
                  "@article{study,",
                  f"  author  = {{{' and '.join(authors)} and others}},",
                  f"  title   = {{{study['title']}}},",
                  f"  journal = {{{study.get('journal', '')}}},",
                  f"  volume  = {{{study.get('volume', '')}}},",
                  f"  pages   = {{{study.get('start', '')}}},",
                  f"  year    = {{{study.get('year', '')}}},",
                  f"  doi     = {{{doi}}}",
                  "}", "```", ""]
    lines += ["The data, LandBench 1.0 {cite}`li2024landbench`, and the other sources the chapters use are "
              "listed in {doc}`references`.", "",
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
