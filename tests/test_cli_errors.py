"""Every user-facing error of the command line is one line naming what is wrong and what to do,
with a non-zero exit and no traceback unless ``--debug``; full disks and denied permissions are
named as such (issue 32, item 4)."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hydrolib.cli import main
from hydrolib.system import errors
from hydrolib.system.errors import DiskFullError, one_line
from hydrolib.system.files import atomic_directory, atomic_path

REPO = Path(__file__).resolve().parent.parent


def _cli(*args: str, env: dict | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "hydrolib", *args], cwd=cwd, env=environment, text=True,
                          capture_output=True, timeout=600)


def _one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr and len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_a_data_error_is_one_line_and_a_traceback_only_with_debug(tmp_path):
    (tmp_path / "2").mkdir()  # a LandBench folder without the resolution asked for
    line = _one_error_line(_cli("train", "stl-sm1", "--profile", "smoke", "--data-root", str(tmp_path)))
    assert line.startswith(f"error: no folder {tmp_path / '4'}: root must hold LandBench's resolution folders")
    debug = _cli("train", "stl-sm1", "--profile", "smoke", "--data-root", str(tmp_path), "--debug")
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr
    assert "LandBenchError" in debug.stderr


def test_a_book_error_is_one_line(tmp_path):
    """``BookBuildError`` and its kin printed tracebacks; an unknown chapter parameter (``-p sede=1``
    for ``seed``) was ignored and the book published."""
    line = _one_error_line(_cli("book", "--profile", "smoke", "--output", str(tmp_path / "out"), "-p", "sede=1"))
    assert line.startswith("error: unknown notebook parameter 'sede' (-p; did you mean 'seed' for 'sede'?); the "
                           "chapters take ")
    assert not (tmp_path / "out").exists()  # refused before any work
    line = _one_error_line(_cli("book", "--profile", "smoke", "--output", str(tmp_path / "o"),
                                "--validation-years", "0"))
    assert "validation_years=0" in line and "python -m hydrolib train NAME --validation-years 0" in line


def test_an_os_error_names_its_file(tmp_path):
    cache = tmp_path / "a-file"
    cache.write_text("not a folder")
    line = _one_error_line(_cli("synthetic", str(cache / "world"), "--resolution", "4", "--years", "2018", "2018"))
    assert str(cache) in line


def test_an_unexpected_error_points_to_debug(monkeypatch, capsys):
    def broken(args):
        raise TypeError("unsupported operand")

    monkeypatch.setattr("hydrolib.cli._verify", broken)
    assert main(["verify", "/nowhere"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == ["error: unsupported operand",
                   "error: (TypeError; run again with --debug to see where it happened)"]

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr("hydrolib.cli._verify", interrupted)
    assert main(["verify", "/nowhere"]) == 130


# --- full disks and permissions ------------------------------------------------------------------


def test_a_full_disk_is_named_whatever_the_writer_said(tmp_path, monkeypatch):
    written = tmp_path / "a.npy"
    with pytest.raises(DiskFullError, match=rf"^disk full: writing {written} failed \(OSError: \[Errno 28\]"):
        with atomic_path(tmp_path / "a.npy"):
            raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(errors, "free_bytes", lambda folder: 4096)  # what a full disk leaves
    with pytest.raises(DiskFullError, match=r"RuntimeError: NetCDF: HDF error\); 0\.0 MiB left on its file system"):
        with atomic_directory(tmp_path / "world") as tmp:  # netCDF says only this on a full disk
            (tmp / "x").write_text("x")
            raise RuntimeError("NetCDF: HDF error")
    with pytest.raises(DiskFullError, match="Not enough free space"):  # numpy's words, without an errno
        with atomic_path(tmp_path / "b.npy"):
            raise OSError("Not enough free space to write 33809408 bytes after offset 128")
    assert not list(tmp_path.iterdir())  # nothing half-written left behind
    monkeypatch.setattr(errors, "free_bytes", lambda folder: 10 * 2**30)
    with pytest.raises(RuntimeError, match="^NetCDF: HDF error$"):  # with room left, the error is what it says
        with atomic_path(tmp_path / "c.nc"):
            raise RuntimeError("NetCDF: HDF error")


def test_permission_and_disk_errors_read_as_such():
    denied = PermissionError(errno.EACCES, "Permission denied", "/data/cache/runs")
    assert one_line(denied).startswith("permission denied: /data/cache/runs: this user may not write or change it")
    full = OSError(errno.ENOSPC, "No space left on device", "/data/cache/prepared/x.npy")
    assert one_line(full).startswith("disk full writing /data/cache/prepared/x.npy: No space left on device.")


def _tiny_filesystem_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _tiny_filesystem_works(), reason="needs unprivileged user and mount namespaces")
def test_a_world_written_onto_a_full_disk_says_disk_full(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    script = (f"mount -t tmpfs -o size=1m tmpfs {mount} && cd {REPO} && PYTHONPATH={REPO} {sys.executable} -m hydrolib "
              f"synthetic {mount}/world --resolution 4 --years 2018 2018 --workers 1")
    result = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script], text=True,
                            capture_output=True, timeout=600)
    line = _one_error_line(result)  # before: "RuntimeError: NetCDF: HDF error" and two tracebacks
    assert line.startswith(f"error: disk full: writing {mount}/world/") and "MiB left on its file system" in line
