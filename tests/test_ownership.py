"""Nothing hydrolib did not write is ever deleted: the cache's pruning, ``synthetic --overwrite``
and every replacement of a folder act only on folders carrying hydrolib's marker (issue 32, item 1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hydrolib.system.files import atomic_directory
from hydrolib.system.ownership import MARKER, NotOwnedError, is_owned, mark_owned, remove_owned

REPO = Path(__file__).resolve().parent.parent


def _cli(*args: str, cwd: Path, env: dict | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "hydrolib", *args], cwd=cwd, env=environment, text=True,
                          capture_output=True, input=stdin if stdin is not None else "", timeout=300)


def _users_files(root: Path) -> list[Path]:
    """A user's own folders that look like a cache's by name: ``runs/…`` and ``prepared/…``."""
    files = [root / "runs" / "thesis" / "chapter1.txt", root / "prepared" / "figures" / "fig1.txt",
             root / "scores" / "mine" / "notes.npz"]
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("the user's own work")
    return files


def test_an_empty_hydrolib_cache_counts_as_unset(monkeypatch, tmp_path):
    from hydrolib.data.source import cache_dir

    monkeypatch.setenv("HOME", str(tmp_path))
    for value in ("", "  "):
        monkeypatch.setenv("HYDROLIB_CACHE", value)
        assert cache_dir() == tmp_path / ".cache" / "hydrolib"  # before: Path("") — the current folder
    monkeypatch.setenv("HYDROLIB_CACHE", "relative/cache")
    assert cache_dir().is_absolute()


def test_prune_leaves_a_users_folders_in_an_empty_hydrolib_cache_alone(tmp_path):
    work = tmp_path / "work"
    files = _users_files(work)
    result = _cli("cache", "--prune", "--yes", cwd=work, env={"HYDROLIB_CACHE": "", "HOME": str(tmp_path / "home")})
    assert result.returncode == 0, result.stderr
    assert all(path.read_text() == "the user's own work" for path in files)  # before: runs/ and prepared/ deleted
    assert f"cache: {tmp_path / 'home' / '.cache' / 'hydrolib'}" in result.stdout


def test_prune_never_deletes_a_folder_without_the_marker_even_in_the_cache(tmp_path):
    files = _users_files(tmp_path)
    result = _cli("cache", "--prune", "--yes", cwd=tmp_path, env={"HYDROLIB_CACHE": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert all(path.exists() for path in files)
    assert "alien run" in result.stdout and f"no {MARKER} marker): left alone" in result.stdout
    assert "3 not hydrolib's, never deleted" in result.stdout


def _stale_run(cache: Path) -> Path:
    """A run folder as hydrolib writes it, that no configuration reaches any more."""
    with atomic_directory(cache / "runs" / "stl-sm1-smoke-0000000000000000", kind="run") as tmp:
        (tmp / "run.json").write_text("{}")
    return cache / "runs" / "stl-sm1-smoke-0000000000000000"


def test_prune_lists_and_asks_and_deletes_only_with_a_yes(tmp_path):
    run = _stale_run(tmp_path)
    env = {"HYDROLIB_CACHE": str(tmp_path)}
    refused = _cli("cache", "--prune", cwd=tmp_path, env=env)  # no terminal to ask: nothing deleted
    assert refused.returncode == 1 and run.exists()
    assert refused.stderr.strip() == (f"error: cache --prune would delete the 1 stale entries listed above (0.0 MiB) "
                                      f"from {tmp_path}; there is no terminal to ask, so nothing was deleted. Add "
                                      f"--yes to delete them.")
    assert "stale run" in refused.stdout and run.name in refused.stdout
    done = _cli("cache", "--prune", "--yes", cwd=tmp_path, env=env)
    assert done.returncode == 0 and not run.exists() and "pruned" in done.stdout


def test_prune_asks_on_a_terminal(tmp_path, monkeypatch, capsys):
    from hydrolib.cli import main

    run = _stale_run(tmp_path)
    monkeypatch.setenv("HYDROLIB_CACHE", str(tmp_path))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda question: "n")
    assert main(["cache", "--prune"]) == 0
    assert run.exists() and "nothing deleted" in capsys.readouterr().out
    monkeypatch.setattr("builtins.input", lambda question: "y")
    assert main(["cache", "--prune"]) == 0
    assert not run.exists()


def test_a_folder_is_replaced_only_if_hydrolib_wrote_it(tmp_path):
    target = tmp_path / "results"
    target.mkdir()
    (target / "mine.txt").write_text("keep")
    with pytest.raises(NotOwnedError, match=rf"refusing to replace it: {target} was not written by hydrolib"):
        with atomic_directory(target) as tmp:
            (tmp / "new.txt").write_text("new")
    assert (target / "mine.txt").read_text() == "keep" and not (target / "new.txt").exists()
    with pytest.raises(NotOwnedError):
        remove_owned(target)
    assert target.exists()

    written = tmp_path / "written"
    with atomic_directory(written, kind="test") as tmp:
        (tmp / "a.txt").write_text("a")
    assert is_owned(written) and json.loads((written / MARKER).read_text())["kind"] == "test"
    with atomic_directory(written) as tmp:  # its own folder: replaced
        (tmp / "b.txt").write_text("b")
    assert sorted(p.name for p in written.iterdir()) == [".files.json", MARKER, "b.txt"]
    remove_owned(written)
    assert not written.exists()


def test_a_folder_written_before_markers_counts_by_its_file_manifest(tmp_path):
    old = tmp_path / "old-run"
    old.mkdir()
    (old / "run.json").write_text("{}")
    (old / ".files.json").write_text(json.dumps({"version": 1, "files": {"run.json": {"size": 2, "crc32": "x"}}}))
    assert is_owned(old)
    (old / ".files.json").write_text(json.dumps({"version": 1, "files": {"weights.pt": {}}}))  # lists what is not there
    assert not is_owned(old)
    mark_owned(old, "run")
    assert is_owned(old)


@pytest.mark.parametrize("overwrite", [False, True])
def test_synthetic_never_overwrites_a_folder_that_is_not_a_world(tmp_path, overwrite):
    mine = tmp_path / "mydata" / "4"
    mine.mkdir(parents=True)
    (mine / "thesis.txt").write_text("years of work")
    args = ["synthetic", str(tmp_path / "mydata"), "--resolution", "4", "--years", "2018", "2018"]
    result = _cli(*args, *(["--overwrite"] if overwrite else []), cwd=tmp_path)
    assert result.returncode == 1
    assert (mine / "thesis.txt").read_text() == "years of work"  # before: deleted by --overwrite
    assert result.stderr.startswith(f"error: {mine} exists and is not a synthetic world (no synthetic_manifest.json);")
    assert "Nothing was deleted" in result.stderr and "Traceback" not in result.stderr
