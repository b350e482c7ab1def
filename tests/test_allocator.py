"""The malloc settings under which training on the CPU reuses the memory it frees (hydrolib.training.allocator)."""

import subprocess
import sys
import textwrap

import pytest

from hydrolib.training.allocator import _glibc

# Allocates and frees blocks of 1–30 MiB, as a training step does its tensors, and prints the
# page faults per repetition once warmed up. Run in a fresh process: glibc's thresholds are
# per process and adjust themselves as blocks are freed.
PROBE = textwrap.dedent("""
    import resource
    import numpy as np
    {setup}

    def step():
        held = [np.ones(mib * 2**18, dtype=np.float32) for mib in (1, 3, 6, 10, 20, 30)]
        return sum(float(block[-1]) for block in held)

    for _ in range(3):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        step()
    print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
""")


def _faults_per_step(setup: str) -> float:
    out = subprocess.run([sys.executable, "-c", PROBE.format(setup=setup)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(_glibc() is None, reason="malloc thresholds are glibc's")
def test_a_process_with_the_thresholds_fixed_reuses_the_memory_it_frees():
    """The 70 MiB a step allocates come back from malloc's own heap, not as fresh pages. Under
    glibc's defaults the same loop faults about 1,500 pages a step (17,920 would be all)."""
    faults = _faults_per_step("from hydrolib.training.allocator import keep_freed_memory\n"
                              "assert keep_freed_memory()")
    assert faults < 50, f"{faults:.0f} page faults per step: freed memory is returned to the system and faulted again"


def test_training_a_run_on_the_cpu_fixes_the_thresholds(smoke_world, monkeypatch):
    """What a ``run-all`` worker, ``python -m hydrolib train`` and a notebook that trains what it
    misses all go through."""
    import hydrolib.experiments.runner as run_module

    calls = []
    monkeypatch.setattr(run_module, "keep_freed_memory", lambda: calls.append(True) or True)
    run_module.run("mtl-none", "smoke", device="cpu", progress=False, epochs=1, seed=977)
    assert calls == [True]
    run_module.run("mtl-none", "smoke", device="cpu", progress=False, epochs=1, seed=977)  # cached: nothing trains
    assert calls == [True]
