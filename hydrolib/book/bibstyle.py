"""One citation style for the book: author–year in the text and in the bibliography.

``_config.yml`` sets ``bibtex_reference_style: author_year``, so the text reads
"Yan et al. (2026)"; pybtex's bundled styles would still label the reference list [1], [2], ...
This Sphinx extension registers the pybtex style ``authoryear``: the entries of ``unsrt``,
sorted by author and year, each labelled "Yan et al., 2026" like the citation that points to it.
"""

from __future__ import annotations

import codecs

import latexcodec  # noqa: F401  (registers the 'ulatex' codec; a dependency of pybtex)
from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting.author_year_title import SortingStyle


def author_year_label(entry) -> str:
    """'Oki and Kanae, 2006', 'Yan et al., 2026': surnames of one or two authors, else the
    first and "et al."; a single author followed by "others" gives 'Li and others, 2024', as the
    citation in the text reads."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    surnames = [" ".join(p.last_names) for p in people if " ".join(p.last_names).lower() != "others"]
    more = len(people) > len(surnames)
    if not surnames:
        names = entry.fields.get("title", entry.key)
    elif len(surnames) == 1:
        # "Li and others", as sphinxcontrib-bibtex's author_year citations write a single author + others
        names = f"{surnames[0]} and others" if more else surnames[0]
    elif len(surnames) == 2 and not more:
        names = f"{surnames[0]} and {surnames[1]}"
    else:
        names = f"{surnames[0]} et al."
    # LaTeX accents of the .bib file (Mu{\~n}oz) become characters (Muñoz) for the label
    names = codecs.decode(names, "ulatex").replace("{", "").replace("}", "")
    return f"{names}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabelStyle(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            yield author_year_label(entry)


class AuthorYearStyle(UnsrtStyle):
    default_label_style = AuthorYearLabelStyle
    default_sorting_style = SortingStyle


def setup(app):
    register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
