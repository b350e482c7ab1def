"""Check a notebook's papermill parameters against their declared types.

papermill injects ``-p seed=1`` as written: a quoted number arrives as a string, and a typo
reaches the reader many cells later. A notebook calls ``check_parameters`` right after its
parameters cell::

    check_parameters({"profile": profile, "seed": seed, "device": device, "data_root": data_root},
                     {"profile": str, "seed": int, "device": str, "data_root": str})

or, equivalently, ``check_parameters(globals(), {...})``: only the declared names are read.
"""

from __future__ import annotations

from numbers import Integral, Real
from pathlib import Path
from typing import Mapping

ALLOWED_TYPES = (int, float, str, bool)
# The parameters every chapter of the book takes (each may declare a few more of its own).
BOOK_PARAMETERS: dict[str, type] = {
    "profile": str, "device": str, "seed": int, "world_seed": int, "world": str, "data_root": str,
    # the data's grid and years; 0 keeps the profile's
    "resolution": float, "first_year": int, "last_year": int, "validation_years": int, "test_years": int,
}


class ParameterError(TypeError):
    """A notebook parameter is missing or of the wrong type."""


def _article(kind: type) -> str:
    name = kind.__name__
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def _matches(value: object, expected: type) -> bool:
    if expected is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):  # True is an int to Python, but not a count or a size
        return False
    if expected is int:
        return isinstance(value, Integral)
    if expected is float:  # a float parameter accepts an int (-p lr=1)
        return isinstance(value, Real)
    return isinstance(value, expected)


def check_parameters(values: Mapping[str, object], declared: Mapping[str, type]) -> dict[str, object]:
    """Check every declared parameter in ``values``; return them, ints given for floats as floats.

    ``declared`` maps names to ``int``, ``float``, ``str`` or ``bool``. Raises
    ``ParameterError`` listing each parameter that is missing or whose value has another
    type, with its value and the expected type.
    """
    problems = []
    checked: dict[str, object] = {}
    for name, expected in declared.items():
        if expected not in ALLOWED_TYPES:
            raise ValueError(f"parameter {name!r} is declared as {expected!r}; declare one of int, float, str, bool")
        if name not in values:
            problems.append(f"parameter {name!r} is missing; expected {_article(expected)}")
            continue
        value = values[name]
        if not _matches(value, expected):
            problems.append(f"parameter {name!r} = {value!r} is {_article(type(value))}; "
                            f"expected {_article(expected)}")
            continue
        checked[name] = float(value) if expected is float else value
    if problems:
        raise ParameterError("; ".join(problems) + " (set it with -p NAME=VALUE in python -m hydrolib book)")
    return checked


def run_settings(values: Mapping[str, object]) -> dict[str, object]:
    """The run settings a chapter's parameters give (``hydrolib.experiments.runner``'s keywords),
    only those that differ from the profile's: ``world_seed``, ``world`` and ``data_root`` where set
    (not 0, not empty), ``resolution``, ``years`` (from ``first_year`` and ``last_year``),
    ``validation_years`` and ``test_years`` where they are set (not 0). The one route from a
    chapter's parameters to its runs, data and results."""
    settings: dict[str, object] = {}
    if values.get("world_seed"):
        settings["world_seed"] = int(values["world_seed"])
    if values.get("world"):
        settings["world"] = str(values["world"])
    if values.get("data_root"):
        settings["data_root"] = str(values["data_root"])
    if values.get("resolution"):
        settings["resolution"] = float(values["resolution"])
    first, last = values.get("first_year", 0), values.get("last_year", 0)
    if first or last:
        if not (first and last):
            raise ParameterError(f"set both first_year and last_year (got {first} and {last}), or neither")
        settings["years"] = (int(first), int(last))
    for name in ("validation_years", "test_years"):
        if values.get(name):
            settings[name] = int(values[name])
    return settings


def declared_parameters(source: Path | str) -> set[str]:
    """The names a chapter's ``parameters`` cell assigns (``notebooks/<name>.py``, jupytext's
    percent format): the parameters papermill can set in it."""
    import ast

    import jupytext

    notebook = jupytext.read(Path(source))
    names: set[str] = set()
    for cell in notebook.cells:
        if "parameters" in cell.metadata.get("tags", []):
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, (ast.Assign, ast.AnnAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def check_book_parameters(parameters: Mapping[str, object], sources: Mapping[str, Path]) -> None:
    """Refuse a parameter that none of the chapters ``sources`` ({name: jupytext source}) declares:
    papermill would inject it into each and every chapter would ignore it (``-p sede=1`` for
    ``seed`` built a whole book with the default seed). ``ParameterError`` names it, the closest
    declared name and every name the chapters take."""
    import difflib

    declared = set().union(*(declared_parameters(path) for path in sources.values())) if sources else set()
    unknown = sorted(set(parameters) - declared)
    if not unknown:
        return
    problems = []
    for name in unknown:
        close = difflib.get_close_matches(name, sorted(declared), n=1)
        problems.append(f"unknown parameter {name!r} ({name}={parameters[name]!r}"
                        + (f"; did you mean {close[0]!r}?)" if close else ")"))
    raise ParameterError("; ".join(problems) + f". The chapters {', '.join(sources)} take: "
                         f"{', '.join(sorted(declared))} (set one with -p NAME=VALUE)")
