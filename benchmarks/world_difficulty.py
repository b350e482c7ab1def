"""How hard each synthetic world is for the quick profile's mtl-none (a measurement, not a test).

    python benchmarks/world_difficulty.py --root /tmp/world-exp era5land degree-day no-subdaily ...

For each variant, one after the other: the world is generated at the quick profile's grid and years
(2°, 2000–2020, seed 0) under ``--root/<variant>``, ``hydrolib train mtl-none --profile quick
--data-root <that folder>`` trains on it (a fresh ``HYDROLIB_CACHE`` per variant, so nothing is
shared between worlds), and the world's hidden stores are summarised by Köppen main group: mean
|ΔSWE|, |ΔSkin|, |ΔS₄| (and |ΔG|) in mm day⁻¹ and the residual of the study's balance
Σ|P − ET − R − ΔS(1–3)| / ΣP. Prints one line per variant and a JSON line with everything; the
world's folder is removed afterwards unless ``--keep``. The variants (``VARIANTS``) switch one
process (or two, named) of the ERA5-Land analogue off at a time; parameters are never tuned.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hydrolib.data.synthetic import WORLDS, generate  # noqa: E402

VARIANTS = {
    "era5land": WORLDS["era5land"],
    "groundwater": WORLDS["groundwater"],
    "degree-day": WORLDS["degree-day"],
    "no-subdaily": WORLDS["era5land"].with_options(substeps=1, storms=False),
    "no-heterogeneity": WORLDS["era5land"].with_options(heterogeneity=False, soil_map_mismatch=False),
    "no-mismatch": WORLDS["era5land"].with_options(soil_map_mismatch=False),
    "degree-day-snow": WORLDS["era5land"].with_options(energy_snow=False),
    "no-frozen-no-skin": WORLDS["era5land"].with_options(frozen_soil=False, skin_reservoir=False),
    "no-frozen": WORLDS["era5land"].with_options(frozen_soil=False),
    "no-skin": WORLDS["era5land"].with_options(skin_reservoir=False),
    "all-off": WORLDS["era5land"].with_options(substeps=1, storms=False, heterogeneity=False, soil_map_mismatch=False,
                                               energy_snow=False, frozen_soil=False, skin_reservoir=False),
}
RESOLUTION, YEARS, SEED = 2.0, (2000, 2020), 0
STORES = ("snow_storage_change", "skin_storage_change", "layer4_storage_change", "groundwater_storage_change")


def world_summary(res_root: Path, world) -> dict:
    """Mean |store change| (mm day⁻¹) and Σ|residual|/ΣP by Köppen main group, from the files."""
    from hydrolib.data.grid import koppen_on
    from hydrolib.data.landbench import open_landbench

    stores = [s for s in STORES if s in world.truth]
    data = open_landbench(res_root, RESOLUTION, YEARS, ["precipitation", "water_balance_residual", *stores]).load()
    group = np.vectorize(lambda name: name[:1])(koppen_on(data, RESOLUTION).values)
    out = {}
    for g in "ABCDE":
        land = group == g
        p = data["precipitation"].values[:, land]
        row = {"residual_share_of_P": float(np.abs(data["water_balance_residual"].values[:, land]).sum() / p.sum())}
        row |= {f"mean_abs_{s}": float(np.abs(data[s].values[:, land]).mean()) for s in stores}
        out[g] = row
    return out


def train(data_root: Path, cache: Path) -> tuple[dict[str, float], float]:
    """mtl-none of the quick profile on the LandBench folder ``data_root``: median test KGE per target."""
    env = {**os.environ, "HYDROLIB_CACHE": str(cache)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "hydrolib", "train", "mtl-none", "--profile", "quick", "--quiet",
                           "--data-root", str(data_root)], env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"training on {data_root} failed:\n{done.stdout}\n{done.stderr}")
    line = next(line for line in done.stdout.splitlines() if "median KGE" in line)
    scores = dict(re.findall(r"(SM1|SM2|SM3|ET) (-?[0-9.]+)", line.split("median KGE:")[1]))
    return {k: float(v) for k, v in scores.items()}, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variants", nargs="+", choices=sorted(VARIANTS))
    parser.add_argument("--root", type=Path, required=True, help="folder for the worlds and caches")
    parser.add_argument("--keep", action="store_true", help="keep each world's files")
    args = parser.parse_args()
    for name in args.variants:
        world = VARIANTS[name]
        folder = args.root / name
        started = time.perf_counter()
        res_dir = generate(folder / "LandBench", RESOLUTION, YEARS, SEED, world=world, overwrite=True)
        generated = time.perf_counter() - started
        summary = world_summary(folder / "LandBench", world)
        scores, seconds = train(folder / "LandBench", folder / "cache")
        manifest = json.loads((res_dir / "synthetic_manifest.json").read_text())
        medians = "  ".join(f"{k} {v:.3f}" for k, v in scores.items())
        print(f"{name:18s} {world.identity:45s} median test KGE  {medians}"
              f"   (world {generated:.0f} s, prepare + train {seconds:.0f} s)", flush=True)
        print(json.dumps({"variant": name, "world": world.identity, "kge": scores, "world_seconds": round(generated, 1),
                          "train_seconds": round(seconds, 1), "max_closure_error_mm": manifest["max_closure_error_mm"],
                          "by_koppen_group": summary}), flush=True)
        if not args.keep:
            shutil.rmtree(folder)


if __name__ == "__main__":
    main()
