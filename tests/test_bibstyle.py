"""The bibliography labels its entries like the text cites them: author, year."""

from pybtex.database import parse_string

from hydrolib.book.bibstyle import author_year_label

BIB = r"""
@article{one, author = {Oki, Taikan}, year = {2006}, title = {A}}
@article{two, author = {Oki, Taikan and Kanae, Shinjiro}, year = {2006}, title = {B}}
@article{three, author = {Peel, M. C. and Finlayson, B. L. and McMahon, T. A.}, year = {2007}, title = {C}}
@article{others, author = {Mu{\~n}oz-Sabater, Joaqu{\'\i}n and others}, year = {2021}, title = {D}}
@article{many, author = {Yan, Y. and Yu, Z. and Zhu, J. and others}, year = {2026}, title = {E}}
"""


def test_labels_read_like_author_year_citations():
    entries = parse_string(BIB, "bibtex").entries
    assert author_year_label(entries["one"]) == "Oki, 2006"
    assert author_year_label(entries["two"]) == "Oki and Kanae, 2006"
    assert author_year_label(entries["three"]) == "Peel et al., 2007"
    assert author_year_label(entries["others"]) == "Muñoz-Sabater and others, 2021"  # as cited in the text
    assert author_year_label(entries["many"]) == "Yan et al., 2026"
