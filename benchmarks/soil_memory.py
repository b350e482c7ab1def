"""How long the world's soil-moisture anomalies remember, against the profiles' windows (issue 31).

    python benchmarks/soil_memory.py --profile quick        # the quick profile's world (2°, 2000–2020)

Per layer, over every land cell of the profile's synthetic world: the e-folding time of the daily
anomalies' autocorrelation (``hydrolib.data.realism.efolding_days``, anomalies from the smoothed
mean seasonal cycle), its median and 90th percentile, and the share of cells whose memory is
longer than the profile's window (``seq_len``) — a window shorter than the memory cannot see
the anomaly it has to carry.
"""
import argparse

import numpy as np

from hydrolib.data.realism import _anomalies, efolding_days
from hydrolib.data.source import DataSettings, open_data
from hydrolib.experiments.profiles import get_profile

LAYERS = {f"SM{i}": f"volumetric_soil_water_layer_{i}" for i in (1, 2, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--world", default="era5land")
    args = parser.parse_args()
    profile = get_profile(args.profile)
    settings = DataSettings(resolution=profile.resolution, years=profile.years, world=args.world)
    data = open_data(settings, list(LAYERS.values()))
    time = data["time"].values
    print(f"{args.profile} profile, {args.world} world, {profile.resolution}°, {profile.years[0]}–{profile.years[1]}, "
          f"window {profile.seq_len} days")
    for short, name in LAYERS.items():
        field = data[name].transpose("lat", "lon", "time").values.reshape(-1, time.size)
        land = np.isfinite(field).all(axis=1)
        memory = efolding_days(_anomalies(field[land], time))
        print(f"{short}: e-folding median {np.nanmedian(memory):.0f} days, 90th percentile "
              f"{np.nanpercentile(memory, 90):.0f}, longer than the window in {np.mean(memory > profile.seq_len):.0%} "
              f"of {land.sum()} cells, longer than 180 days in {np.mean(memory > 180):.0%}, "
              f"than 365 in {np.mean(memory >= 365):.0%}")


if __name__ == "__main__":
    main()
