"""Faults a user meets, and what hydrolib does about them: kills, truncated or edited files,
dead writers' leftovers, two processes at once, parameters of the wrong type, failed notebooks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from process_probes import PYTHON, alive, child_env, descendants, wait_until  # tests/process_probes.py

from hydrolib.book.parameters import ParameterError, check_parameters
from hydrolib.data import fingerprint
from hydrolib.data.prepare import PrepareConfig, prepare_cached
from hydrolib.data.prepared_cache import prepared_key
from hydrolib.system import files as system_files
from hydrolib.system.files import (
    FILES_MANIFEST,
    CorruptCacheError,
    CorruptCacheWarning,
    atomic_directory,
    atomic_path,
    verify_folder,
)
from hydrolib.system.locks import LockTimeout, file_lock


def _dead_pid() -> int:
    child = subprocess.Popen([PYTHON, "-c", "pass"])
    child.wait()
    return child.pid


def _temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if ".tmp-" in p.name]


# --- verified cache folders -------------------------------------------------------------------

def test_a_written_folder_lists_each_file_with_size_and_checksum(tmp_path):
    with atomic_directory(tmp_path / "cache") as tmp:
        (tmp / "a.bin").write_bytes(b"hello")
        (tmp / "sub").mkdir()
        (tmp / "sub" / "b.bin").write_bytes(b"")
    manifest = json.loads((tmp_path / "cache" / FILES_MANIFEST).read_text())["files"]
    # zlib.crc32(b"hello") = 0x3610a686; of no bytes, 0
    assert manifest == {"a.bin": {"size": 5, "crc32": "3610a686"}, "sub/b.bin": {"size": 0, "crc32": "00000000"}}
    verify_folder(tmp_path / "cache")


def test_a_truncated_file_is_named_with_its_sizes(tmp_path):
    with atomic_directory(tmp_path / "cache") as tmp:
        (tmp / "a.bin").write_bytes(b"0123456789")
    with open(tmp_path / "cache" / "a.bin", "r+b") as handle:
        handle.truncate(4)
    with pytest.raises(CorruptCacheError, match=r"a\.bin: size 4 bytes, expected 10 \(truncated or altered\)") as info:
        verify_folder(tmp_path / "cache")
    assert info.value.path == tmp_path / "cache" / "a.bin"


def test_an_edit_of_the_same_size_is_found_by_the_checksum(tmp_path):
    with atomic_directory(tmp_path / "cache") as tmp:
        (tmp / "a.bin").write_bytes(b"0123456789")
    (tmp_path / "cache" / "a.bin").write_bytes(b"0123456780")
    system_files.forget_verified()
    with pytest.raises(CorruptCacheError, match=r"a\.bin: checksum crc32 \w{8}, expected \w{8} \(altered\)"):
        verify_folder(tmp_path / "cache")


def test_a_missing_file_or_manifest_is_named(tmp_path):
    with atomic_directory(tmp_path / "cache") as tmp:
        (tmp / "a.bin").write_bytes(b"x")
    (tmp_path / "cache" / "a.bin").unlink()
    with pytest.raises(CorruptCacheError, match=r"a\.bin: missing"):
        verify_folder(tmp_path / "cache")
    (tmp_path / "cache" / FILES_MANIFEST).unlink()
    with pytest.raises(CorruptCacheError, match=r"cache: no \.files\.json"):
        verify_folder(tmp_path / "cache")


# --- modes and dead writers' temporaries --------------------------------------------------------

@pytest.mark.parametrize("umask, folder_mode, file_mode", [(0o022, 0o755, 0o644), (0o027, 0o750, 0o640)])
def test_written_files_and_folders_follow_the_umask(tmp_path, umask, folder_mode, file_mode):
    previous = os.umask(umask)
    try:
        with atomic_directory(tmp_path / "cache") as tmp:
            (tmp / "sub").mkdir()
            with atomic_path(tmp / "sub" / "a.txt") as file_tmp:
                file_tmp.write_text("x")
        with atomic_path(tmp_path / "single.json") as file_tmp:
            file_tmp.write_text("{}")
    finally:
        os.umask(previous)
    assert (tmp_path / "cache").stat().st_mode & 0o777 == folder_mode  # mkdtemp alone gives 0700
    assert (tmp_path / "cache" / "sub").stat().st_mode & 0o777 == folder_mode
    assert (tmp_path / "cache" / "sub" / "a.txt").stat().st_mode & 0o777 == file_mode  # mkstemp: 0600
    assert (tmp_path / "single.json").stat().st_mode & 0o777 == file_mode


def test_temporaries_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    host = system_files._HOST
    dead = tmp_path / f".runs.tmp-{host}-{_dead_pid()}-abc"
    dead_file = tmp_path / f".run.json.tmp-{host}-{_dead_pid()}-xyz"
    live = tmp_path / f".other.tmp-{host}-{os.getpid()}-def"
    foreign = tmp_path / f".other.tmp-someotherhost-{_dead_pid()}-ghi"  # maybe alive on its host
    for folder in (dead, live, foreign):
        (folder / "part").mkdir(parents=True)
    dead_file.write_text("{")
    legacy_old, legacy_new = tmp_path / ".4.k3j_x9qa.tmp", tmp_path / ".4.abcd1234.tmp"  # hydrolib <= this one
    for folder in (legacy_old, legacy_new):
        folder.mkdir()
    two_days_ago = time.time() - 2 * 86400
    os.utime(legacy_old, (two_days_ago, two_days_ago))
    with atomic_directory(tmp_path / "new") as tmp:
        (tmp / "a").write_text("a")
    assert not dead.exists() and not dead_file.exists() and not legacy_old.exists()
    assert live.exists() and foreign.exists() and legacy_new.exists()  # legacy_new may still be written
    assert (tmp_path / "new" / "a").read_text() == "a"


# --- the prepared-data cache rebuilds what is damaged -------------------------------------------

def _raw_arrays():
    """Every forcing, static, target and water column, in hydrolib's units so the data checks pass."""
    from hydrolib.data.prepared import LandArrays
    from hydrolib.data.vocabulary import FORCING, STATICS

    rng = np.random.default_rng(0)
    time_ = np.arange("2018-01-01", "2021-01-01", dtype="datetime64[D]")
    cells, days = 5, time_.size
    targets = np.concatenate([rng.uniform(0.1, 0.4, (cells, days, 3)), rng.uniform(0, 3, (cells, days, 1))], -1)
    water = rng.uniform(0, 5, (cells, days, 2))  # precipitation, runoff in mm day-1
    inputs = rng.normal(size=(cells, days, len(FORCING)))
    inputs[..., FORCING.index("2m_temperature")] = rng.uniform(260, 300, (cells, days))  # K
    inputs[..., FORCING.index("precipitation")] = water[..., 0]  # the same field, as land_arrays reads it
    return LandArrays(inputs=inputs.astype(np.float32),
                      targets=targets.astype(np.float32),
                      water=water.astype(np.float32),
                      statics=rng.normal(size=(cells, len(STATICS))).astype(np.float32),
                      lat=np.linspace(-10, 10, cells), lon=np.linspace(0, 40, cells), time=time_,
                      fingerprint="hand-made", forcing=FORCING, static_names=STATICS)


class _Counting:
    """raw_arrays for prepare_cached that counts how often the data were prepared."""

    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return _raw_arrays()


def _key() -> str:
    from hydrolib.data.vocabulary import FORCING, STATICS, TARGETS, WATER

    return prepared_key("hand-made", PrepareConfig(), (FORCING, STATICS, TARGETS, WATER))


@pytest.mark.parametrize("damaged, cut", [("inputs.npy", 1000), ("meta.json", 10), ("train_days.npy", 0)])
def test_a_truncated_prepared_file_is_reported_and_rebuilt(tmp_path, damaged, cut):
    raw = _Counting()
    first = prepare_cached(raw, "hand-made", PrepareConfig(), tmp_path)
    folder = tmp_path / _key()
    size = (folder / damaged).stat().st_size
    with open(folder / damaged, "r+b") as handle:
        handle.truncate(cut)
    with pytest.warns(CorruptCacheWarning) as caught:
        again = prepare_cached(raw, "hand-made", PrepareConfig(), tmp_path)
    messages = [str(w.message) for w in caught]
    assert messages == [f"prepared data in {folder} is damaged ({folder / damaged}: size {cut} bytes, expected "
                        f"{size} (truncated or altered)); deleting it and preparing the data again"]
    assert raw.calls == 2
    np.testing.assert_array_equal(again.inputs, first.inputs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rebuilt folder is good: no second warning, no third preparation
        prepare_cached(raw, "hand-made", PrepareConfig(), tmp_path)
    assert raw.calls == 2


def test_a_kill_during_prepare_leaves_a_temporary_that_the_next_prepare_removes(tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_faults import _raw_arrays
        from hydrolib.data import prepare
        from hydrolib.data.prepare import PrepareConfig, prepare_cached
        real_save = prepare.np.save
        def slow_save(*args, **kwargs):  # stall after the first array, as a large save would
            real_save(*args, **kwargs)
            print("saving", flush=True)
            time.sleep(60)
        prepare.np.save = slow_save
        prepare_cached(_raw_arrays, "hand-made", PrepareConfig(), {str(tmp_path)!r})
    """)
    child = subprocess.Popen([PYTHON, "-c", script], stdout=subprocess.PIPE, text=True, env=child_env())
    assert child.stdout.readline().strip() == "saving"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    left = _temporaries(tmp_path)
    assert len(left) == 1 and left[0].name.startswith(f".{_key()}.tmp-")
    assert not (tmp_path / _key()).exists()  # a reader never saw the half-written folder

    raw = _Counting()
    prepare_cached(raw, "hand-made", PrepareConfig(), tmp_path)
    assert raw.calls == 1 and _temporaries(tmp_path) == []
    verify_folder(tmp_path / _key())


# --- content fingerprints -----------------------------------------------------------------------

VARIABLES = ("precipitation", "evapotranspiration", "dem")


def _landbench(root: Path, years=(2018, 2019)) -> None:
    """A LandBench-shaped folder of stand-in files: fingerprints read bytes, not netCDF."""
    for year in years:
        for group, name in (("atmosphere", "precipitation"), ("land_surface", "total_evaporation"),
                            ("land_surface", "snow_depth_water_equivalent")):
            path = root / "4" / group / str(year) / f"{name}.nc"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(f"{name} {year} ".encode() * 10)
    (root / "4" / "constants").mkdir(parents=True, exist_ok=True)
    (root / "4" / "constants" / "dem.nc").write_bytes(b"dem" * 10)


def _edit_keeping_size_and_mtime(path: Path) -> None:
    stat = path.stat()
    data = bytearray(path.read_bytes())
    data[0] ^= 1
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as cp -p, rsync -a and tar do


def test_fingerprint_reads_only_the_runs_years_and_variables(tmp_path):
    root = tmp_path / "LandBench"
    _landbench(root, years=(2018, 2019))
    files = fingerprint.files_read(root, 4, (2018, 2019), VARIABLES)
    assert [p.relative_to(root / "4").as_posix() for p in files] == [
        "atmosphere/2018/precipitation.nc", "atmosphere/2019/precipitation.nc",
        "land_surface/2018/total_evaporation.nc", "land_surface/2019/total_evaporation.nc", "constants/dem.nc"]
    before = fingerprint.content_fingerprint(root, 4, (2018, 2019), VARIABLES)
    _landbench(root, years=(2020,))  # an unrelated extra year
    (root / "4" / "land_surface" / "2018" / "snow_depth_water_equivalent.nc").write_bytes(b"other")  # unused
    assert fingerprint.content_fingerprint(root, 4, (2018, 2019), VARIABLES) == before
    assert fingerprint.content_fingerprint(root, 4, (2018, 2020), VARIABLES) != before


def test_an_edit_with_restored_mtime_changes_the_fingerprint_after_verify(tmp_path):
    root = tmp_path / "LandBench"
    _landbench(root)
    before = fingerprint.content_fingerprint(root, 4, (2018, 2019), VARIABLES)
    edited = root / "4" / "atmosphere" / "2019" / "precipitation.nc"
    _edit_keeping_size_and_mtime(edited)
    # remembered by path, size and mtime: not hashed again until verify
    assert fingerprint.content_fingerprint(root, 4, (2018, 2019), VARIABLES) == before
    lines = []
    assert fingerprint.verify_report(root, say=lines.append) == 1
    assert lines[0].startswith(f"changed: {edited}: crc32 ") and lines[0].endswith("(hash cache)")
    assert fingerprint.content_fingerprint(root, 4, (2018, 2019), VARIABLES) != before
    assert fingerprint.verify(root) == []  # now remembered as it is


def test_a_change_of_size_changes_the_fingerprint_at_once(tmp_path):
    root = tmp_path / "LandBench"
    _landbench(root)
    before = fingerprint.content_fingerprint(root, 4, (2018, 2019), VARIABLES)
    path = root / "4" / "constants" / "dem.nc"
    stat = path.stat()
    path.write_bytes(b"dem" * 11)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert fingerprint.content_fingerprint(root, 4, (2018, 2019), VARIABLES) != before


def test_a_world_is_checked_against_its_manifest(tmp_path):
    with atomic_directory(tmp_path / "4") as tmp:
        (tmp / "atmosphere").mkdir()
        (tmp / "atmosphere" / "t.nc").write_bytes(b"0123456789")
    fingerprint.check_world(tmp_path / "4")
    edited = tmp_path / "4" / "atmosphere" / "t.nc"
    _edit_keeping_size_and_mtime(edited)
    fingerprint.check_world(tmp_path / "4")  # remembered hash: unnoticed until verify
    changed = fingerprint.verify(tmp_path)
    assert [c.path for c in changed] == [edited] and changed[0].against == str(tmp_path / "4" / FILES_MANIFEST)
    with pytest.raises(CorruptCacheError, match=r"t\.nc: differs from .*\.files\.json: crc32 \w{8}, expected \w{8}"):
        fingerprint.check_world(tmp_path / "4")
    edited.write_bytes(b"short")  # a size change is seen without verify
    with pytest.raises(CorruptCacheError, match=r"t\.nc: differs"):
        fingerprint.check_world(tmp_path / "4")


# --- writers end with their parent --------------------------------------------------------------

def test_pool_workers_die_with_a_killed_parent():
    script = textwrap.dedent("""
        import concurrent.futures, multiprocessing, os, time
        from hydrolib.system.processes import die_with_parent
        pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"),
                                                      initializer=die_with_parent, initargs=(os.getpid(),))
        print(pool.submit(os.getpid).result(), flush=True)
        pool.submit(time.sleep, 60)
        time.sleep(60)
    """)
    parent = subprocess.Popen([PYTHON, "-c", script], stdout=subprocess.PIPE, text=True, env=child_env())
    worker = int(parent.stdout.readline())
    assert alive(worker)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    wait_until(lambda: not alive(worker), 5, f"worker {worker} to end with its parent")


@pytest.mark.slow
def test_kill_during_world_writing_leaves_no_orphan_and_the_next_run_completes(tmp_path):
    root = tmp_path / "LandBench"
    command = [PYTHON, "-m", "hydrolib", "synthetic", str(root), "--resolution", "4", "--years", "2018", "2020",
               "--workers", "2"]
    writer = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=child_env())
    written = lambda: any(root.glob(".4.tmp-*/atmosphere/*/*.nc"))  # noqa: E731
    wait_until(written, 120, "the first yearly file")
    workers = descendants(writer.pid)
    assert workers, "the writer started no worker process"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    wait_until(lambda: not any(map(alive, workers)), 10, f"writer processes {workers} to end")
    assert len(_temporaries(root)) == 1 and not (root / "4").exists()

    again = subprocess.run(command, capture_output=True, text=True, env=child_env(), timeout=300)
    assert again.returncode == 0, again.stderr
    assert _temporaries(root) == []
    verify_folder(root / "4")
    assert json.loads((root / "4" / "synthetic_manifest.json").read_text())["years"] == [2018, 2020]


@pytest.mark.slow
def test_an_edited_world_file_is_found_and_the_world_written_again(tmp_path):
    from hydrolib.data.synthetic import generate

    res_dir = generate(tmp_path, 4.0, (2018, 2018), workers=1)
    edited = res_dir / "atmosphere" / "2018" / "precipitation.nc"
    edited.write_bytes(edited.read_bytes()[:-100])
    with pytest.warns(CorruptCacheWarning, match=rf"the synthetic world in {res_dir} has changed since it was "
                                                 rf"written \({edited}: differs from .*; writing it again"):
        generate(tmp_path, 4.0, (2018, 2018), workers=1)
    verify_folder(res_dir)


# --- a lock for the same run --------------------------------------------------------------------

def _hold_lock(lock: Path, seconds: float, result: Path | None = None) -> subprocess.Popen:
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from hydrolib.system.locks import file_lock
        with file_lock({str(lock)!r}, purpose="training mtl-none"):
            print("locked", flush=True)
            time.sleep({seconds})
            if {str(result) if result else ''!r}:
                Path({str(result)!r}).write_text("trained")
    """)
    holder = subprocess.Popen([PYTHON, "-c", script], stdout=subprocess.PIPE, text=True, env=child_env())
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_second_training_waits_for_the_first_and_finds_its_result(tmp_path):
    lock, result = tmp_path / "run.lock", tmp_path / "run.json"
    holder = _hold_lock(lock, 1.5, result)
    said = []
    with file_lock(lock, timeout=30, say=said.append):
        assert result.read_text() == "trained"  # the first finished before we got the lock
    holder.wait()
    assert len(said) == 1 and said[0].startswith(f"waiting for {lock}: held by process {holder.pid} on ")
    assert "(training mtl-none) since " in said[0]


def test_a_lock_held_too_long_names_its_holder_and_a_killed_holder_frees_it(tmp_path):
    lock = tmp_path / "run.lock"
    holder = _hold_lock(lock, 60)
    expected = (rf"{lock} is still locked after 0 s by process {holder.pid} on .* \(training mtl-none\) "
                r"since .*; wait for it to finish, or end that process")
    with pytest.raises(LockTimeout, match=expected):
        with file_lock(lock, timeout=0.3, say=lambda _: None):
            pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with file_lock(lock, timeout=5):
        pass


def test_locks_need_no_fcntl_so_hydrolib_imports_where_it_is_missing(tmp_path):
    """Windows has no fcntl: the locks, and the modules that take them, must import and lock
    without it (filelock locks with msvcrt there; here, with fcntl hidden, with its own file)."""
    script = textwrap.dedent(f"""
        import sys
        sys.modules["fcntl"] = None  # import fcntl now raises ImportError, as on Windows
        import hydrolib.book.execute, hydrolib.experiments.runner, hydrolib.experiments.schedule
        from hydrolib.system.locks import file_lock, lock_holder
        with file_lock({str(tmp_path / "run.lock")!r}, purpose="a test") as path:
            print(lock_holder(path))
    """)
    done = subprocess.run([PYTHON, "-c", script], capture_output=True, text=True, env=child_env(), timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "(a test) since " in done.stdout
    assert not (tmp_path / "run.lock.holder").exists(), "the holder's note outlived the lock"


# --- notebook parameters ------------------------------------------------------------------------

DECLARED = {"profile": str, "seed": int, "learning_rate": float, "progress": bool}


def test_parameters_of_their_declared_types_pass_and_an_int_is_a_float():
    values = {"profile": "smoke", "seed": 3, "learning_rate": 1, "progress": False, "other": object()}
    checked = check_parameters(values, DECLARED)
    assert checked == {"profile": "smoke", "seed": 3, "learning_rate": 1.0, "progress": False}
    assert isinstance(checked["learning_rate"], float)


@pytest.mark.parametrize("name, value, message", [
    ("seed", "1", "parameter 'seed' = '1' is a str; expected an int"),
    ("seed", 1.5, "parameter 'seed' = 1.5 is a float; expected an int"),
    ("seed", True, "parameter 'seed' = True is a bool; expected an int"),
    ("learning_rate", "0.1", "parameter 'learning_rate' = '0.1' is a str; expected a float"),
    ("progress", 1, "parameter 'progress' = 1 is an int; expected a bool"),
    ("profile", 4, "parameter 'profile' = 4 is an int; expected a str"),
])
def test_a_parameter_of_another_type_is_named_with_its_value(name, value, message):
    values = {"profile": "smoke", "seed": 3, "learning_rate": 0.1, "progress": False, name: value}
    with pytest.raises(ParameterError) as info:
        check_parameters(values, DECLARED)
    assert str(info.value).startswith(message + " (set it with -p NAME=VALUE")


def test_a_missing_parameter_is_named():
    with pytest.raises(ParameterError, match="parameter 'seed' is missing; expected an int"):
        check_parameters({"profile": "smoke", "learning_rate": 0.1, "progress": True}, DECLARED)


# --- the book publishes only notebooks that executed well ----------------------------------------

def _book_repo(root: Path, second_fails: bool) -> Path:
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    (root / "book").mkdir(exist_ok=True)
    (root / "book" / "intro.md").write_text("# Intro\n")
    (root / "CITATION.cff").write_text((Path(__file__).resolve().parent.parent / "CITATION.cff").read_text())
    (root / "_config.yml").write_text(
        "title: faults\nonly_build_toc_files: true\nexecute:\n  execute_notebooks: 'off'\n")
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n"
                                   "  - file: notebooks/good\n  - file: notebooks/second\n")
    (root / "notebooks" / "good.py").write_text(
        "# %% [markdown]\n# # Good\n\n# %% tags=[\"parameters\"]\nprofile = 'x'\n\n# %%\nprint('GOOD-OUTPUT')\n")
    body = "raise RuntimeError('SECOND-FAILED')" if second_fails else "print('SECOND-OUTPUT')"
    (root / "notebooks" / "second.py").write_text(
        f"# %% [markdown]\n# # Second\n\n# %% tags=[\"parameters\"]\nprofile = 'x'\n\n# %%\n{body}\n")
    return root


def test_a_failed_notebook_leaves_no_executed_copy_to_publish(tmp_path):
    from hydrolib.book.chapters import BookBuildError
    from hydrolib.book.execute import execute_notebook, verified_good

    repo = _book_repo(tmp_path / "repo", second_fails=False)
    out = tmp_path / "build" / "book_src" / "notebooks"
    execute_notebook("second", out, {"profile": "smoke"}, repo)
    assert verified_good("second", out, {"profile": "smoke", "device": "cuda"}) is None
    assert "parameters" in verified_good("second", out, {"profile": "quick"})
    _book_repo(tmp_path / "repo", second_fails=True)
    with pytest.raises(BookBuildError, match=r"notebook second failed in cell \d+: RuntimeError: SECOND-FAILED "
                                             r"\(the executed notebook is in .*failed/second\.ipynb"):
        execute_notebook("second", out, {"profile": "smoke"}, repo)
    assert not (out / "second.ipynb").exists()
    assert verified_good("second", out, {"profile": "smoke"}) == "no successful execution is recorded"
    kept = tmp_path / "build" / "book_src" / "notebook_runs" / "failed" / "second.ipynb"
    assert "SECOND-FAILED" in kept.read_text()


def test_executing_a_chapter_prints_no_kernel_start_warning(tmp_path, capfd):
    """ipykernel's "Kernel is running over TCP without encryption" came once per chapter."""
    from hydrolib.book.execute import execute_notebook

    repo = _book_repo(tmp_path / "repo", second_fails=False)
    execute_notebook("good", tmp_path / "out", {"profile": "smoke"}, repo)
    captured = capfd.readouterr()
    assert "Kernel is running over TCP" not in captured.err + captured.out, captured.err[-500:]


def test_chapters_executed_beside_the_training_are_waited_for_and_their_failures_named(tmp_path):
    """The chapters that read no runs execute while the runs train (``notebooks_executing``):
    leaving the block waits for them; a failed one is named after the block has run, and an
    error of the block itself (the training) is the one raised."""
    from hydrolib.book.chapters import BookBuildError
    from hydrolib.book.execute import notebooks_executing

    repo = _book_repo(tmp_path / "repo", second_fails=True)
    out = tmp_path / "build" / "book_src" / "notebooks"
    trained = []
    with pytest.raises(BookBuildError, match=r"notebook second failed in cell \d+: RuntimeError: SECOND-FAILED"):
        with notebooks_executing(["good", "second"], out, {"profile": "smoke"}, repo):
            trained.append("runs")
    assert trained == ["runs"]
    assert "GOOD-OUTPUT" in (out / "good.ipynb").read_text() and not (out / "second.ipynb").exists()
    with pytest.raises(ZeroDivisionError):
        with notebooks_executing(["good"], out, {"profile": "smoke"}, repo):
            raise ZeroDivisionError("the training failed")


@pytest.mark.slow
def test_a_partial_build_does_not_publish_a_notebook_that_failed(tmp_path, monkeypatch):
    from hydrolib.book.build import build_book
    from hydrolib.book.chapters import BookBuildError

    monkeypatch.setattr("hydrolib.data.source.DataSettings.ensure_folder", lambda self: None)  # no data needed here
    repo = _book_repo(tmp_path / "repo", second_fails=True)
    output = tmp_path / "build"
    with pytest.raises(BookBuildError, match="notebook second failed"):
        build_book("smoke", output, repo=repo, train=False)
    html = output / "_build" / "html"
    with pytest.raises(BookBuildError, match=r"not publishing: notebooks without a good execution in .* \(second: "
                                             r"no successful execution is recorded\)\. Execute them: python -m "
                                             r"hydrolib book --profile smoke --only second"):
        build_book("smoke", output, notebooks=["good"], repo=repo, train=False)
    assert not (html / "notebooks" / "second.html").exists()
    assert "SECOND-FAILED" in (output / "notebook_runs" / "failed" / "second.ipynb").read_text()  # kept to read

    _book_repo(repo, second_fails=False)  # fixed: a partial build of it publishes both
    build_book("smoke", output, notebooks=["second"], repo=repo, train=False)
    assert "SECOND-OUTPUT" in (html / "notebooks" / "second.html").read_text()
    assert "GOOD-OUTPUT" in (html / "notebooks" / "good.html").read_text()


def test_a_chapter_re_executed_with_other_parameters_is_published_with_them(tmp_path, monkeypatch, caplog):
    """The README's ``book --only 01_data -p world_seed=3``: the chapter executes with the new
    value and the book is published, the other chapters as they executed before (each page's
    banner says with what), and the build says which differ. Before, it ended in "not publishing"."""
    import logging

    import nbformat

    from hydrolib.book.build import build_book

    monkeypatch.setattr("hydrolib.data.source.DataSettings.ensure_folder", lambda self: None)  # no data needed here
    rendered = []
    monkeypatch.setattr("hydrolib.book.build.render_book", lambda staging, output: rendered.append(staging) or output)
    repo = _book_repo(tmp_path / "repo", second_fails=False)
    for name in ("good", "second"):
        path = repo / "notebooks" / f"{name}.py"
        path.write_text(path.read_text().replace("profile = 'x'\n", "profile = 'x'\nworld_seed = 0\n")
                        .replace("print('", "print(f'seed {world_seed} "))
    output = tmp_path / "build"
    build_book("smoke", output, repo=repo, train=False)
    with caplog.at_level(logging.INFO, logger="hydrolib"):
        build_book("smoke", output, notebooks=["good"], parameters={"world_seed": 3}, repo=repo, train=False)
    assert len(rendered) == 2
    executed = output / "book_src" / "notebooks"
    assert "seed 3 GOOD-OUTPUT" in nbformat.read(executed / "good.ipynb", as_version=4).cells[-1].outputs[0].text
    assert "seed 0 SECOND-OUTPUT" in nbformat.read(executed / "second.ipynb", as_version=4).cells[-1].outputs[0].text
    assert "second is published as executed earlier, with world_seed=(default)" in caplog.text


def test_a_prepared_folder_from_before_manifests_is_rebuilt_with_a_note(tmp_path):
    raw = _Counting()
    prepare_cached(raw, "hand-made", PrepareConfig(), tmp_path)
    (tmp_path / _key() / FILES_MANIFEST).unlink()
    with pytest.warns(CorruptCacheWarning, match=rf"^prepared data in {tmp_path / _key()} has no \.files\.json "
                                                 r"\(written by an older hydrolib\); deleting it and preparing"):
        prepare_cached(raw, "hand-made", PrepareConfig(), tmp_path)
    assert raw.calls == 2
    verify_folder(tmp_path / _key())


def test_a_file_rewritten_in_a_verified_folder_is_recorded(tmp_path):
    with atomic_directory(tmp_path / "run") as tmp:
        (tmp / "config.json").write_text("{}")
    with atomic_path(tmp_path / "run" / "checkpoint.pt", record=True) as tmp:
        tmp.write_bytes(b"epoch 1")
    verify_folder(tmp_path / "run")
    with atomic_path(tmp_path / "run" / "checkpoint.pt", record=True) as tmp:
        tmp.write_bytes(b"epoch 2, longer")
    verify_folder(tmp_path / "run")
    with open(tmp_path / "run" / "checkpoint.pt", "r+b") as handle:
        handle.truncate(3)
    with pytest.raises(CorruptCacheError, match=r"checkpoint\.pt: size 3 bytes, expected 15"):
        system_files.read_verified(tmp_path / "run" / "checkpoint.pt")
