"""A bundle: named tables, arrays and plain values written to one folder, and read back as they were.

Tables (``pandas.DataFrame``, any index and columns, MultiIndex included) go to CSV with the
numbers at full float32 precision or better; arrays (``xarray.DataArray``/``Dataset``) to
compressed netCDF; plain values (numbers, strings, lists, dicts) to ``values.json``. The folder
appears complete or not at all (``atomic_directory``) with a manifest of sizes and checksums,
so a half-written bundle is never read. Nothing is pickled.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from hydrolib.system.files import atomic_directory, verify_folder

INDEX_FILE = "bundle.json"


def _check_name(name: str) -> None:
    if not name or not all(c.isalnum() or c in "_-" for c in name):
        raise ValueError(f"bundle entry names are letters, digits, '_' and '-'; got {name!r}")


def _plain(value):
    """``value`` as JSON can hold it (numpy scalars and arrays become Python numbers and lists)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _encoding(data: xr.Dataset) -> dict:
    return {name: {"zlib": True, "complevel": 4} for name, var in data.data_vars.items()
            if var.dtype.kind in "fiu"}


def save_bundle(folder: Path | str, entries: dict[str, object]) -> Path:
    """Write ``entries`` (name → DataFrame, DataArray, Dataset or plain value) into ``folder``,
    replacing what was there, atomically. Returns the folder."""
    folder = Path(folder)
    index: dict[str, dict] = {}
    values: dict[str, object] = {}
    with atomic_directory(folder) as tmp:
        for name, value in entries.items():
            _check_name(name)
            if isinstance(value, pd.DataFrame):
                frame = value.copy()
                index[name] = {"kind": "table", "index_levels": frame.index.nlevels,
                               "column_levels": frame.columns.nlevels,
                               "index_names": [None if n is None else str(n) for n in frame.index.names],
                               "column_names": [None if n is None else str(n) for n in frame.columns.names],
                               "dtypes": [str(t) for t in frame.dtypes]}
                # NaN written as "NaN", so that an empty string reads back as one
                frame.to_csv(tmp / f"{name}.csv", float_format="%.9g", na_rep="NaN")
            elif isinstance(value, (xr.DataArray, xr.Dataset)):
                data = value.to_dataset(name=name) if isinstance(value, xr.DataArray) else value
                index[name] = {"kind": "array" if isinstance(value, xr.DataArray) else "dataset"}
                data.to_netcdf(tmp / f"{name}.nc", encoding=_encoding(data))
            else:
                index[name] = {"kind": "value"}
                values[name] = _plain(value)
        (tmp / "values.json").write_text(json.dumps(values, indent=1, sort_keys=True, allow_nan=True))
        (tmp / INDEX_FILE).write_text(json.dumps(index, indent=1, sort_keys=True))
    return folder


def _read_table(path: Path, meta: dict) -> pd.DataFrame:
    index_levels, column_levels = meta["index_levels"], meta["column_levels"]
    frame = pd.read_csv(path, index_col=list(range(index_levels)), header=list(range(column_levels)),
                        keep_default_na=False, na_values=["NaN"])
    frame.index.names = meta["index_names"]
    frame.columns.names = meta["column_names"]
    if column_levels == 1:
        frame.columns = [_unstring(c) for c in frame.columns]
    for i, dtype in enumerate(meta.get("dtypes", [])):
        if dtype.startswith(("float", "int", "bool")):  # "1" of a float column reads back as an int
            frame.isetitem(i, frame.iloc[:, i].astype(dtype))
    return frame


def _unstring(label):
    """A column label CSV turned into text, back as the number it was (``"2020"`` → 2020)."""
    for kind in (int, float):
        try:
            return kind(label)
        except (TypeError, ValueError):
            pass
    return label


def load_bundle(folder: Path | str) -> dict[str, object]:
    """The entries of a bundle written by ``save_bundle``, verified against its manifest first."""
    folder = Path(folder)
    if not (folder / INDEX_FILE).exists():
        raise FileNotFoundError(f"{folder} holds no bundle ({INDEX_FILE} missing)")
    verify_folder(folder)
    index = json.loads((folder / INDEX_FILE).read_text())
    values = json.loads((folder / "values.json").read_text())
    entries: dict[str, object] = {}
    for name, meta in index.items():
        if meta["kind"] == "table":
            entries[name] = _read_table(folder / f"{name}.csv", meta)
        elif meta["kind"] in ("array", "dataset"):
            with xr.open_dataset(folder / f"{name}.nc") as data:
                loaded = data.load()
            entries[name] = loaded[name] if meta["kind"] == "array" else loaded
        else:
            entries[name] = values[name]
    return entries
