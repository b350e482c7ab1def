"""Figures in one style: maps with country outlines, seasonal cycles, CDFs.

Country outlines come from the Natural Earth 110 m polygons (public domain) that ship with
hydrolib (``hydrolib/data/natural_earth/``), read with cartopy's shapereader, so no map ever
downloads anything.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from hydrolib.data.layout import wrap_longitude
from hydrolib.data.regions import country_geometries

STYLE = {
    "figure.dpi": 110,  # the size a figure is shown at; its PNG has twice the pixels (use_style: retina)
    "savefig.dpi": 220,  # 2x: sharp on high-density screens and when zoomed
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
}


def use_style() -> None:
    """Apply the book's matplotlib style; in a notebook, figures are also sent as "retina" PNGs
    (twice the pixels of their displayed size, the size kept in the output's metadata)."""
    plt.rcParams.update(STYLE)
    try:
        from IPython import get_ipython
    except ImportError:
        return
    if get_ipython() is not None:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("retina")


TARGET_DEPTHS = {"SM1": "0–7 cm", "SM2": "7–28 cm", "SM3": "28–100 cm"}  # ERA5-Land's soil layers


def target_title(target: str) -> str:
    """A panel title for a target: "SM1 (0–7 cm)", ..., "ET (evapotranspiration)"."""
    if target in TARGET_DEPTHS:
        return f"{target} ({TARGET_DEPTHS[target]})"
    if target == "ET":
        return "ET (evapotranspiration)"
    raise ValueError(f"unknown target {target!r}; expected SM1, SM2, SM3 or ET")


# Köppen–Geiger classes by name (Beck et al. 2018), so that "ET" (tundra) is never read as
# evapotranspiration.
KOPPEN_NAMES = {
    "Af": "tropical rainforest",
    "Am": "tropical monsoon",
    "Aw": "tropical savanna",
    "As": "tropical dry-summer savanna",
    "BWh": "hot desert",
    "BWk": "cold desert",
    "BSh": "hot steppe",
    "BSk": "cold steppe",
    "Csa": "hot-summer Mediterranean",
    "Csb": "warm-summer Mediterranean",
    "Csc": "cold-summer Mediterranean",
    "Cwa": "monsoon humid subtropical",
    "Cwb": "subtropical highland",
    "Cwc": "cold subtropical highland",
    "Cfa": "humid subtropical",
    "Cfb": "oceanic",
    "Cfc": "subpolar oceanic",
    "Dsa": "dry hot-summer continental",
    "Dsb": "dry warm-summer continental",
    "Dsc": "dry-summer subarctic",
    "Dsd": "dry-summer extremely cold subarctic",
    "Dwa": "monsoon hot-summer continental",
    "Dwb": "monsoon warm-summer continental",
    "Dwc": "monsoon subarctic",
    "Dwd": "monsoon extremely cold subarctic",
    "Dfa": "hot-summer continental",
    "Dfb": "warm-summer continental",
    "Dfc": "subarctic",
    "Dfd": "extremely cold subarctic",
    "ET": "tundra",
    "EF": "ice cap",
}
KOPPEN_GROUP_NAMES = {"A": "tropical", "B": "arid", "C": "temperate", "D": "continental", "E": "polar"}


def koppen_label(code: str) -> str:
    """ "tundra (ET)", "hot desert (BWh)", "arid (B)": a Köppen–Geiger class or group by name,
    its code in brackets."""
    name = KOPPEN_NAMES.get(code) or KOPPEN_GROUP_NAMES.get(code)
    if name is None:
        raise ValueError(
            f"unknown Köppen–Geiger class {code!r}; expected one of {', '.join(KOPPEN_NAMES)} "
            f"or a group {', '.join(KOPPEN_GROUP_NAMES)}"
        )
    return f"{name} ({code})"


def map_axes(fig: plt.Figure, *position) -> plt.Axes:
    """A Robinson-projection map axis with country outlines (no download)."""
    import cartopy.crs as ccrs

    ax = fig.add_subplot(*position, projection=ccrs.Robinson())
    ax.set_global()
    ax.add_geometries(
        [g[3] for g in country_geometries()],
        ccrs.PlateCarree(),
        facecolor="none",
        edgecolor="0.25",
        linewidth=0.3,
        zorder=3,
    )
    return ax


def map_field(
    ax: plt.Axes,
    lat: np.ndarray,
    lon: np.ndarray,
    values: np.ndarray,
    *,
    title: str = "",
    units: str = "",
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    norm=None,
    colorbar: bool = True,
):
    """Draw a (lat, lon) field on a map axis from ``map_axes``."""
    import cartopy.crs as ccrs

    mesh = ax.pcolormesh(
        lon,
        lat,
        np.ma.masked_invalid(values),
        transform=ccrs.PlateCarree(),
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        norm=norm,
        shading="nearest",
        zorder=2,
    )
    if title:
        ax.set_title(title)
    if colorbar:
        # values beyond the colour range are drawn in the end colours: the bar says so with arrows
        plt.colorbar(
            mesh,
            ax=ax,
            orientation="horizontal",
            shrink=0.7,
            pad=0.04,
            label=units,
            extend=colorbar_extend(values, mesh.norm.vmin, mesh.norm.vmax),
        )
    return mesh


def colorbar_extend(values, vmin: float | None, vmax: float | None) -> str:
    """ "neither", "min", "max" or "both": which ends of a colour range ``values`` go beyond."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    below = vmin is not None and finite.size > 0 and finite.min() < vmin
    above = vmax is not None and finite.size > 0 and finite.max() > vmax
    return {(False, False): "neither", (True, False): "min", (False, True): "max", (True, True): "both"}[(below, above)]


def outside_counts(values, low: float, high: float) -> tuple[int, int]:
    """How many finite ``values`` lie below ``low`` and above ``high``."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return int((values < low).sum()), int((values > high).sum())


def annotate_outside(ax: plt.Axes, groups: list, positions: list[float] | None = None, axis: str = "y") -> None:
    """Write, at the edge of the axes, how many values of each group lie outside the axis limits,
    and keep that note right whenever the limits change (``set_ylim`` after this call included).

    ``groups``: one array per box (``positions``: their x positions, default 1, 2, ...) for
    ``axis="y"``, or one array per curve for ``axis="x"`` (the note then sums them per side)."""
    notes: list = []

    def update(_ax=None) -> None:
        for note in notes:
            note.remove()
        notes.clear()
        low, high = sorted(ax.get_ylim() if axis == "y" else ax.get_xlim())
        if axis == "y":
            for x, values in zip(positions or range(1, len(groups) + 1), groups):
                below, above = outside_counts(values, low, high)
                for count, y, va, arrow in ((below, 0.0, "bottom", "↓"), (above, 1.0, "top", "↑")):
                    if count:
                        notes.append(
                            ax.text(
                                x,
                                y,
                                f"{arrow}{count}",
                                transform=ax.get_xaxis_transform(),
                                ha="center",
                                va=va,
                                fontsize=7,
                                color="0.25",
                                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
                            )
                        )
        else:
            below = sum(outside_counts(v, low, high)[0] for v in groups)
            above = sum(outside_counts(v, low, high)[1] for v in groups)
            for count, x, ha, arrow in ((below, 0.0, "left", "←"), (above, 1.0, "right", "→")):
                if count:
                    notes.append(
                        ax.text(
                            x,
                            0.02,
                            f"{arrow}{count} beyond axis",
                            transform=ax.transAxes,
                            ha=ha,
                            va="bottom",
                            fontsize=7,
                            color="0.25",
                        )
                    )

    ax.callbacks.connect("ylim_changed" if axis == "y" else "xlim_changed", update)
    update()


def model_label(name: str) -> str:
    """Display name of a run or model, as its experiment declares it (``stl-sm1`` … and
    ``stl`` are the single-task model)."""
    from hydrolib.experiments.registry import display

    return display(name)[0]


def label_color(label: str) -> str:
    """The colour of the model a table or a results bundle names by its label (``model_label``)."""
    from hydrolib.experiments.registry import EXPERIMENTS

    for experiment in EXPERIMENTS.values():
        if experiment.label == label:
            return experiment.colour
    raise ValueError(f"no model is labelled {label!r}; labels: {sorted({e.label for e in EXPERIMENTS.values()})}")


def model_color(name: str) -> str:
    """The colour of a run or model in every figure of the book, as its experiment declares it."""
    from hydrolib.experiments.registry import display

    return display(name)[1]


def cdf(ax: plt.Axes, values, label: str = "", color: str | None = None, **kwargs):
    """Empirical cumulative distribution of ``values`` (NaNs dropped)."""
    values = np.sort(np.asarray(values, dtype=float).ravel())
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError(f"no finite values to draw a CDF of{f' for {label}' if label else ''}")
    fraction = np.arange(1, values.size + 1) / values.size
    return ax.step(values, fraction, where="post", label=label, color=color, **kwargs)


def boxes(ax: plt.Axes, groups: dict[str, np.ndarray], colors: list[str] | None = None, **kwargs):
    """Box plots of several groups of values side by side (NaNs dropped, no outlier dots).

    No value is hidden silently: where the axis limits (set now or later) leave values of a
    box outside, the count is written at that edge ("↓12": 12 values below the axis)."""
    data = [np.asarray(v, dtype=float)[np.isfinite(np.asarray(v, dtype=float))] for v in groups.values()]
    parts = ax.boxplot(data, tick_labels=list(groups), showfliers=False, patch_artist=True, **kwargs)
    for patch, color in zip(parts["boxes"], colors or ["#cccccc"] * len(data)):
        patch.set_facecolor(color)
        patch.set_alpha(0.6)
    annotate_outside(ax, data, list(kwargs.get("positions", range(1, len(data) + 1))))
    return parts


def grid_field(lat: np.ndarray, lon: np.ndarray, values: np.ndarray, resolution: float):
    """Cell values (one per land cell) onto a regular (lat, lon) grid for ``map_field``;
    returns (lat axis, lon axis, 2-D field with NaN where there is no cell)."""
    lat, lon, values = np.asarray(lat), np.asarray(lon), np.asarray(values, dtype=float)
    lat_axis = np.arange(-90 + resolution / 2, 90, resolution)
    lon_axis = np.arange(-180 + resolution / 2, 180, resolution)
    field = np.full((lat_axis.size, lon_axis.size), np.nan)
    rows = np.round((lat - lat_axis[0]) / resolution).astype(int)
    cols = np.round((wrap_longitude(lon) - lon_axis[0]) / resolution).astype(int)
    off_grid = (
        (np.abs(lat_axis[np.clip(rows, 0, lat_axis.size - 1)] - lat) > resolution / 4)
        | (rows < 0)
        | (rows >= lat_axis.size)
        | (cols < 0)
        | (cols >= lon_axis.size)
    )
    if off_grid.any():
        raise ValueError(
            f"{int(off_grid.sum())} cells are not centres of a {resolution:g}° grid "
            f"(e.g. lat {lat[off_grid][0]}, lon {lon[off_grid][0]})"
        )
    field[rows, cols] = values
    return lat_axis, lon_axis, field


def place(lat: float, lon: float) -> str:
    """'67.0° N, 127.0° W' for a point given in degrees north and east."""
    lon = wrap_longitude(lon)
    return f"{abs(lat):.1f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.1f}° {'E' if lon >= 0 else 'W'}"
