"""What a part of hydrolib runs, found from its imports, and a fingerprint of that code.

A trained run is cached under a fingerprint of the code that decides it, and scores under a
fingerprint of the code that computes them. Both are derived here from the imports of an entry
module — at module level and inside functions, with every package ``__init__`` on the way — so
that no hand-kept list of modules can miss one. ``boundary`` modules are where the walk stops:
the training path reads no score, so the scoring code is its boundary, and changing a score
retrains nothing.
"""

from __future__ import annotations

import ast
import hashlib
import io
import tokenize
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

PACKAGE = "hydrolib"
PACKAGE_DIR = Path(__file__).resolve().parents[1]


def module_path(module: str, package_dir: Path = PACKAGE_DIR) -> Path | None:
    """The source file of ``module`` (``hydrolib.x.y``), or None if it is no module of the package."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = package_dir.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _parents(module: str) -> list[str]:
    """The packages ``hydrolib``, ``hydrolib.x``, … whose ``__init__`` importing ``module`` runs."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def imports_of(module: str, package_dir: Path = PACKAGE_DIR) -> set[str]:
    """The package's modules that ``module`` imports anywhere in its source (module level and
    inside functions): for ``from a.b import c``, ``a.b.c`` where that is a module, else ``a.b``."""
    path = module_path(module, package_dir)
    if path is None:
        return set()
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" if module_path(f"{base}.{alias.name}", package_dir) else base
                     for alias in node.names]
        else:
            continue
        found.update(n for n in names if module_path(n, package_dir) is not None)
    return found


def import_closure(entries: Iterable[str], boundary: Iterable[str] = (),
                   package_dir: Path = PACKAGE_DIR) -> tuple[str, ...]:
    """Every module of the package that importing ``entries`` can run, sorted: their imports,
    transitively, with the ``__init__`` of every package on the way; the walk does not enter
    ``boundary`` modules (nor what only they import)."""
    stop = set(boundary)
    seen: set[str] = set()
    todo = [m for entry in entries for m in (*_parents(entry), entry)]
    while todo:
        module = todo.pop()
        if module in seen or module in stop or module_path(module, package_dir) is None:
            continue
        seen.add(module)
        for imported in imports_of(module, package_dir):
            todo.extend([*_parents(imported), imported])
    return tuple(sorted(seen))


def code_text(source: str) -> str:
    """``source`` without comments, docstrings and blank lines: what the interpreter runs, so
    that a reworded docstring or comment changes no fingerprint."""
    lines = source.splitlines()
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value,
                                                                                                   str):
                docstrings.update(range(first.lineno - 1, first.end_lineno))
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            row, col = token.start
            lines[row - 1] = lines[row - 1][:col]
    return "\n".join(line.rstrip() for i, line in enumerate(lines) if i not in docstrings and line.strip())


def fingerprint(modules: Iterable[str], read: Callable[[str], str] | None = None,
                package_dir: Path = PACKAGE_DIR) -> str:
    """16 hex digits: a hash of the code of ``modules`` (``code_text``), each under its name.
    ``read(module)`` gives a module's source (default: its file)."""
    read = read or (lambda module: module_path(module, package_dir).read_text(encoding="utf-8"))
    digest = hashlib.sha256()
    for module in sorted(modules):
        digest.update(module.encode())
        digest.update(code_text(read(module)).encode())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=None)
def _module_fingerprint(module: str, package_dir: Path) -> str:
    return fingerprint((module,), package_dir=package_dir)


def module_fingerprints(modules: Iterable[str], package_dir: Path = PACKAGE_DIR) -> dict[str, str]:
    """``fingerprint`` of each of ``modules`` alone: {module: 16 hex digits}, to name which
    changed; computed once per process, like ``closure_fingerprint``."""
    return {module: _module_fingerprint(module, package_dir) for module in sorted(modules)}


def changed_modules(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The modules whose ``module_fingerprints`` differ between ``before`` and ``after``, each
    marked "(new)" or "(gone)" where it is in one only."""
    names = sorted(set(before) | set(after))
    return [name + (" (new)" if name not in before else " (gone)" if name not in after else "")
            for name in names if before.get(name) != after.get(name)]


@lru_cache(maxsize=None)
def closure_fingerprint(entries: tuple[str, ...], boundary: tuple[str, ...] = ()) -> str:
    """``fingerprint`` of ``import_closure(entries, boundary)``, computed once per process."""
    return fingerprint(import_closure(entries, boundary))
