"""The registry of synthetic worlds: names, options, identities, manifests and caches."""

import json
import warnings

import numpy as np
import pytest

from hydrolib.data.synthetic import (
    DEFAULT_WORLD,
    GENERATOR_VERSION,
    MANIFEST,
    WORLDS,
    generate,
    resolve_world,
    simulate,
    world_fingerprint,
)
from hydrolib.data.synthetic.htessel import Options
from hydrolib.system.files import CorruptCacheWarning


def test_the_three_worlds_and_the_default():
    assert set(WORLDS) == {"era5land", "groundwater", "degree-day"}
    assert DEFAULT_WORLD == "era5land"
    assert WORLDS["era5land"].n_layers == 4 and WORLDS["degree-day"].n_layers == 3
    assert "groundwater_storage_change" in WORLDS["groundwater"].truth
    assert "groundwater_storage_change" not in WORLDS["era5land"].truth  # ERA5-Land has no groundwater store
    assert "layer4_storage_change" in WORLDS["era5land"].truth


def test_an_unknown_world_or_option_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown synthetic world 'era5'; expected one of era5land, groundwater"):
        resolve_world("era5")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['snowpack'\] of world 'era5land'"):
        WORLDS["era5land"].with_options(snowpack=False)
    with pytest.raises(ValueError, match="substeps must divide a day"):
        Options(substeps=5)
    with pytest.raises(ValueError, match="unknown synthetic world"):
        simulate(4.0, (2001, 2001), world="nowhere")


def test_identities_name_the_options_that_differ():
    assert WORLDS["era5land"].identity == "era5land"
    assert WORLDS["groundwater"].identity == "groundwater"
    variant = WORLDS["era5land"].with_options(substeps=1, storms=False)
    assert variant.identity == "era5land[storms=False,substeps=1]"
    assert WORLDS["era5land"].options == Options()  # the registered world is unchanged


def test_fingerprints_differ_by_world_and_carry_the_generator_version():
    prints = {name: world_fingerprint(4.0, (2001, 2002), 0, name) for name in WORLDS}
    assert len(set(prints.values())) == 3
    assert world_fingerprint(4.0, (2001, 2002), 0) == prints["era5land"]
    assert all(GENERATOR_VERSION in p for p in prints.values())
    assert world_fingerprint(4.0, (2001, 2002), 0, WORLDS["era5land"].with_options(frozen_soil=False)) \
        != prints["era5land"]


def test_worlds_share_grid_statics_and_forcing():
    _, a = simulate(4.0, (2003, 2003), seed=2, world="degree-day", spinup_years=0)
    _, b = simulate(4.0, (2003, 2003), seed=2, world="era5land", spinup_years=0)
    a, b = next(a), next(b)
    for name in ("precip_mm", "t2m", "ssrd", "q"):
        np.testing.assert_array_equal(getattr(a.forcing, name), getattr(b.forcing, name))
    assert not np.array_equal(a.output.observed["swvl1"], b.output.observed["swvl1"])


def test_manifest_records_the_world_and_another_world_is_refused(tmp_path):
    res_dir = generate(tmp_path, 4.0, (2010, 2010), 0, workers=1, world="degree-day")
    manifest = json.loads((res_dir / MANIFEST).read_text())
    assert manifest["world"] == "degree-day" and manifest["soil_layers"] == 3
    assert manifest["generator_version"] == GENERATOR_VERSION
    with pytest.raises(FileExistsError, match="overwrite"):
        generate(tmp_path, 4.0, (2010, 2010), 0, workers=1, world="era5land")


def test_a_world_of_an_older_generator_is_written_again(tmp_path):
    res_dir = generate(tmp_path, 4.0, (2010, 2010), 0, workers=1, world="degree-day")
    manifest = json.loads((res_dir / MANIFEST).read_text())
    manifest["generator_version"] = "1.1"
    (res_dir / MANIFEST).write_text(json.dumps(manifest))
    with pytest.warns(CorruptCacheWarning, match="generator version 1.1"):
        generate(tmp_path, 4.0, (2010, 2010), 0, workers=1, world="degree-day")
    assert json.loads((res_dir / MANIFEST).read_text())["generator_version"] == GENERATOR_VERSION
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same world again: nothing to do, nothing said
        generate(tmp_path, 4.0, (2010, 2010), 0, workers=1, world="degree-day")
