"""Processes and concurrency (issue 32, item 5): workers end with their parent, book builds and
world generation take a lock, settings that cannot fit are refused before work, an exploded run
is not cached, relative paths are resolved once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
from process_probes import PYTHON, REPO, alive, child_env, descendants, wait_until  # tests/process_probes.py


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except FileNotFoundError:
        return ""


def _kill_and_expect_no_survivor(parent: subprocess.Popen, workers: set[int]) -> None:
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    try:
        wait_until(lambda: not any(map(alive, workers)), 20, f"workers {workers} to end with their parent")
    finally:
        for pid in workers:  # never leave a stray process behind, even when the test fails
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


# --- workers end with their parent --------------------------------------------------------------


@pytest.mark.slow
def test_run_all_killed_leaves_no_training_worker(smoke_world):
    command = [PYTHON, "-m", "hydrolib", "run-all", "--profile", "smoke", "--quiet", "--seed", "41",
               "--set", "epochs=500", "--set", "iterations_per_epoch=50"]
    parent = subprocess.Popen(command, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()

    def training_workers() -> bool:
        workers.update(p for p in descendants(parent.pid) if "spawn_main" in _command_line(p))
        return len(workers) >= 1

    wait_until(training_workers, 300, "run-all's training workers")
    time.sleep(2)  # let them train
    _kill_and_expect_no_survivor(parent, workers)  # before: alive minutes later, still training


def _book_repo(root: Path, body: str) -> Path:
    """A book of two chapters whose code cell is ``body``; each takes the book's ``data_root``."""
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    (root / "book").mkdir(exist_ok=True)
    (root / "book" / "intro.md").write_text("# Intro\n")
    (root / "CITATION.cff").write_text((REPO / "CITATION.cff").read_text())
    (root / "_config.yml").write_text("title: t\nonly_build_toc_files: true\nexecute:\n  execute_notebooks: 'off'\n")
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: notebooks/one\n"
                                   "  - file: notebooks/two\n")
    for name in ("one", "two"):
        (root / "notebooks" / f"{name}.py").write_text(
            f"# %% [markdown]\n# # {name}\n\n# %% tags=[\"parameters\"]\nprofile = 'x'\ndata_root = ''\n\n"
            f"# %%\n{body}\n")
    return root


@pytest.mark.slow
def test_a_killed_book_build_leaves_no_chapter_executing(tmp_path):
    repo = _book_repo(tmp_path / "repo", "import time\ntime.sleep(300)")
    script = textwrap.dedent(f"""
        from pathlib import Path
        from unittest import mock
        from hydrolib.book import build, execute
        with mock.patch("hydrolib.data.source.DataSettings.ensure_folder", lambda self: None), \\
                mock.patch.object(execute, "notebook_workers", lambda count: 2):
            build.build_book("smoke", Path({str(tmp_path / 'out')!r}), repo=Path({str(repo)!r}), train=False)
    """)
    parent = subprocess.Popen([PYTHON, "-c", script], env=child_env(), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    children: set[int] = set()

    def kernels_running() -> bool:
        children.update(descendants(parent.pid))
        return sum("ipykernel" in _command_line(p) for p in children) >= 2

    wait_until(kernels_running, 300, "two chapters' kernels")
    _kill_and_expect_no_survivor(parent, {p for p in children if alive(p)})  # workers and their kernels


# --- locks -----------------------------------------------------------------------------------------


def test_a_second_book_build_of_the_same_output_waits_for_the_first(tmp_path, monkeypatch, caplog):
    from hydrolib.book import build

    repo = _book_repo(tmp_path / "repo", "print('x')")
    output = tmp_path / "out"
    build.claim_output(output)
    holder = subprocess.Popen([PYTHON, "-c", textwrap.dedent(f"""
        import time
        from hydrolib.system.locks import file_lock
        with file_lock({str(output / '.build.lock')!r}, purpose="building the book into {output}"):
            print("locked", flush=True)
            time.sleep(2)
    """)], env=child_env(), stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    built = []
    monkeypatch.setattr(build, "_build", lambda *args: built.append(time.monotonic()) or output)
    build.build_book("smoke", output, repo=repo, train=False)
    holder.wait()
    assert built, "the second build never ran"
    # the library logs it (the command line shows its log on stderr, tests/test_cli_errors.py); read
    # from the log, the test no longer depends on an earlier test having set up the handler
    assert f"waiting for {output / '.build.lock'}: held by process {holder.pid}" in caplog.text


def test_a_book_build_never_writes_into_a_users_folder_and_resolves_data_root_once(tmp_path, monkeypatch):
    from hydrolib.book import build
    from hydrolib.system.ownership import NotOwnedError

    repo = _book_repo(tmp_path / "repo", "print('x')")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "paper.tex").write_text("my paper")
    with pytest.raises(NotOwnedError, match=f"the output folder {mine} holds files that no book build wrote"):
        build.build_book("smoke", mine, repo=repo, train=False)
    assert [p.name for p in mine.iterdir()] == ["paper.tex"]

    seen = {}
    monkeypatch.setattr(build, "_build", lambda profile, output, names, params, *rest: seen.update(params) or output)
    monkeypatch.chdir(tmp_path)
    build.build_book("smoke", tmp_path / "out", repo=repo, parameters={"data_root": "dataR"}, train=False)
    assert seen["data_root"] == str(tmp_path / "dataR")  # before: ./dataR for training, notebooks/dataR in chapters


def test_relative_paths_are_made_absolute_once(tmp_path, monkeypatch):
    from hydrolib.data.source import DataSettings, pin_cache_dir

    monkeypatch.chdir(tmp_path)
    settings = DataSettings(4, (2018, 2020), 0, "dataR")
    assert settings.data_root == str(tmp_path / "dataR")
    assert DataSettings(4, (2018, 2020), 0, settings.data_root) == settings
    assert DataSettings(4, (2018, 2020), 0, "").synthetic
    monkeypatch.setenv("HYDROLIB_CACHE", "cache")  # workers and chapters (in notebooks/) inherit it pinned
    assert pin_cache_dir() == tmp_path / "cache" and os.environ["HYDROLIB_CACHE"] == str(tmp_path / "cache")


@pytest.mark.slow
def test_world_generation_takes_a_lock(tmp_path):
    script = textwrap.dedent(f"""
        import warnings
        warnings.simplefilter("error")  # a "world has changed" warning fails the process
        from hydrolib.data.source import generate_world
        generate_world({str(tmp_path)!r}, 4, (2018, 2018), 0, workers=1)
    """)
    first, second = (subprocess.Popen([PYTHON, "-c", script], env=child_env(), stderr=subprocess.PIPE, text=True)
                     for _ in range(2))
    outcomes = [(p.wait(timeout=600), p.stderr.read()) for p in (first, second)]
    assert [code for code, _ in outcomes] == [0, 0], outcomes
    assert sum("waiting for" in err and ".4.lock" in err for _, err in outcomes) == 1
    manifest = json.loads((tmp_path / "4" / "synthetic_manifest.json").read_text())
    assert manifest["years"] == [2018, 2018]


# --- settings that cannot work ---------------------------------------------------------------------


def test_a_batch_that_cannot_fit_the_devices_memory_is_refused_before_the_data(monkeypatch):
    from hydrolib.experiments import RunConfig, runner
    from hydrolib.training import memory

    monkeypatch.setattr(memory, "available_bytes", lambda device: 2 * 2**30)
    monkeypatch.setattr(runner, "load_prepared", lambda *a, **k: pytest.fail("the data were opened"))
    config = RunConfig.build("mtl-diff", "smoke", batch_size=200_000)
    with pytest.raises(MemoryError, match=r"setting 'batch_size' = 200000 does not fit in memory: one training step "
                                          r"of 200000 windows of 30 days \(hidden 16, 2 network\(s\)\) needs about "
                                          r"[\d.]+ GiB, and 'cpu' has 2\.0 GiB free\. Use --set batch_size=\d+ "
                                          r"or less"):
        runner.run(config, progress=False)
    needed = memory.training_bytes(64, 30, 26, 16, 2)
    assert needed == 4 * 64 * 30 * (26 + 20 * 16) * 2  # the smoke profile's step: about 1 MB


def test_a_run_whose_loss_explodes_is_not_cached(isolated_cache):
    from hydrolib.experiments import RunConfig, is_cached, run
    from hydrolib.experiments.runner import TrainingDivergedError

    with pytest.raises(TrainingDivergedError, match=r"the training loss exploded: its lowest data loss in any epoch "
                                                    r"is .* per target, where a network predicting the training mean "
                                                    r"scores about 1; nothing was cached\. Lower 'learning_rate' "
                                                    r"\(now 1e\+10; the profile's is 0\.001\)"):
        run("stl-sm1", "smoke", progress=False, learning_rate=1e10)  # before: cached, median KGE -8.4e9
    assert not is_cached(RunConfig.build("stl-sm1", "smoke", learning_rate=1e10))
    assert not list((isolated_cache / "runs").glob("stl-sm1-*.training"))
