"""The command line as a user meets it: its version, its help, names checked before any work,
a cap on parallel workers, ``verify`` on a folder that is not there, messages through logging."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import hydrolib
from hydrolib.cli import build_parser, main

PACKAGE = Path(hydrolib.__file__).parent


def test_version_names_the_package_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip().startswith(f"hydrolib {hydrolib.__version__} (Python ")


@pytest.mark.parametrize("command, shown", [
    ("book", ["from the committed results in results/paper) (default: quick)", "(default: _build)",
              "--train | --from-results"]),
    ("run-all", ["(default: quick)", "cpu or cuda (default: cpu)", "-j N, --jobs N"]),
    ("synthetic", ["(default: 4.0)", "(default: (2015, 2020))", "-j N, --jobs N, --workers N"]),
])
def test_help_shows_every_default(command, shown):
    text = " ".join(build_parser()._subparsers._group_actions[0].choices[command].format_help().split())
    for expected in shown:
        assert " ".join(expected.split()) in text, f"{command} --help lacks {expected!r}:\n{text}"
    assert "(default: None)" not in text and "(default: False)" not in text and "(default: [])" not in text


@pytest.mark.parametrize("argv, message", [
    (["book", "--profile", "smoke", "--only", "99_nope"],
     "error: unknown chapter '99_nope'; the book's chapters are 01_data, 02_water_balance,"),
    (["book", "--profile", "nope"], "error: unknown profile 'nope'; expected one of smoke, quick, paper"),
    (["book", "--profile", "smoke", "-p", "sede=1"],
     "error: unknown notebook parameter 'sede' (-p; did you mean 'seed' for 'sede'?); the chapters take"),
    (["book", "--profile", "smoke", "-p", "seed=one"], "error: parameter 'seed' = 'one' is a str; expected an int"),
    (["book", "--profile", "smoke", "--only", "06_extremes", "-p", "quantile=0.1"],
     "error: unknown notebook parameter 'quantile' (-p); 06_extremes take data_root, device,"),
    (["book", "--profile", "smoke", "--resolution", "3"], "error: "),
    (["run-all", "--profile", "nope"], "error: "),
])
def test_book_names_a_wrong_chapter_profile_or_parameter_before_any_work(argv, message, tmp_path, monkeypatch,
                                                                         capsys):
    """Checked before the staging folder, the world or any training: nothing is made."""
    def no_work(*args, **kwargs):
        raise AssertionError("work started before the names were checked")

    for target in ("hydrolib.book.build.vendor_mathjax", "hydrolib.experiments.run_all",
                   "hydrolib.experiments.schedule.run_all", "hydrolib.data.source.DataSettings.ensure_folder"):
        monkeypatch.setattr(target, no_work)
    output = tmp_path / "build"
    extra = ["--output", str(output)] if argv[0] == "book" else []
    assert main(argv + extra) == 1
    err = capsys.readouterr().err
    assert err.startswith(message), err
    assert err.count("\n") == 1  # one line
    assert not output.exists()


def test_jobs_must_be_a_positive_whole_number(capsys):
    for argv in (["run-all", "-j", "0"], ["book", "--jobs", "two"], ["synthetic", "x", "--jobs", "-1"]):
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 2
        assert "a whole number of parallel workers >= 1" in capsys.readouterr().err


def test_jobs_caps_the_runs_trained_and_the_chapters_executed(tmp_path, monkeypatch):
    """``book -j 1``: one run at a time, then the results, then one chapter at a time."""
    seen = {}

    def run_all(profile, **kwargs):
        seen["workers"] = kwargs["workers"]
        return []

    def compute_results(profile, seed, device, names, **kwargs):
        seen["results"] = list(names)

    def execute_notebooks(names, out_dir, parameters, repo, work_dir=None, workers=None):
        seen.setdefault("executed", []).append((list(names), workers))
        raise hydrolib.book.chapters.BookBuildError("stop here")

    import hydrolib.book.build as build

    monkeypatch.setattr("hydrolib.experiments.run_all", run_all)
    monkeypatch.setattr("hydrolib.study.results.compute_results", compute_results)
    monkeypatch.setattr(build, "execute_notebooks", execute_notebooks)
    monkeypatch.setattr("hydrolib.data.source.DataSettings.ensure_folder", lambda self: None)
    with pytest.raises(hydrolib.book.chapters.BookBuildError, match="stop here"):
        build.build_book("smoke", tmp_path / "build", notebooks=["01_data", "03_stl_vs_mtl"], jobs=1)
    assert seen == {"workers": 1, "results": ["01_data", "03_stl_vs_mtl", "claims"],
                    "executed": [(["01_data", "03_stl_vs_mtl"], 1)]}


def test_verify_fails_on_a_folder_that_is_not_there_or_holds_no_data(tmp_path, capsys):
    for root, why in ((tmp_path / "nowhere", "is missing"), (tmp_path, "holds no netCDF (.nc) file")):
        assert main(["verify", str(root)]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"error: {root} {why}"), err


def _calls_to_print(path: Path) -> list[int]:
    tree = ast.parse(path.read_text())
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"]


# The command line prints its own reports (runs' scores, JSON lines) on stdout. The synthetic
# world's generator is being rewritten apart from this change; it still prints a line per year.
PRINTS_ALLOWED = {"cli.py", "data/synthetic/__init__.py"}


def test_the_library_says_what_it_does_through_logging_not_print():
    printing = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative not in PRINTS_ALLOWED and _calls_to_print(path):
            printing[relative] = _calls_to_print(path)
    assert not printing, f"print() in the library (use logging.getLogger(__name__)): {printing}"


def test_the_command_line_shows_the_librarys_messages_on_stderr(tmp_path):
    """What the library logs at INFO reaches a user of the command line, one plain line each."""
    script = ("import logging, sys; from hydrolib.cli import configure_logging; configure_logging(); "
              "logging.getLogger('hydrolib.book.build').info('book written to %s', 'here'); "
              "logging.getLogger('hydrolib.x').debug('not shown')")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "book written to here\n" and done.stdout == ""
