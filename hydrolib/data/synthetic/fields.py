"""Spatially coherent random fields on the sphere, cheap enough for every day of every year.

A field is a sum of K random Fourier features of the cells' 3-D unit vectors
(Rahimi & Recht 2007): ``f(x) = sqrt(2/K) Σ a_k cos(w_k · x + b_k)`` with
``w_k ~ N(0, I/ℓ²)``, which has unit variance and a Gaussian correlation of chord
length ``ℓ`` (ℓ = 0.1 ≈ 640 km). Because features are functions of location, the same
seed gives the same geography at every resolution. Daily fields evolve by an AR(1)
process on the coefficients ``a_k``, so one matrix product gives a whole year.

A float32 matrix product's rounding depends on how BLAS splits it (threads, kernels for the
edges of a block), so the products here are taken in fixed blocks of ``CELL_BLOCK`` cells on
one BLAS thread: a cell's value is then the same whichever process computes which range of
blocks, and however many cores the machine has (it can still differ in the last bit between
CPU types, whose BLAS kernels differ).
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

CELL_BLOCK = 512  # cells per matrix product; ranges of cells simulated apart start at multiples of it


def unit_vectors(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    """(cell, 3) unit vectors of points given in degrees."""
    lat, lon = np.deg2rad(lat_deg), np.deg2rad(lon_deg)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


class FeatureBasis:
    """Random Fourier features of one correlation length, evaluated at the grid's cells."""

    def __init__(self, xyz: np.ndarray, length: float, n_features: int, rng: np.random.Generator):
        w = rng.normal(scale=1.0 / length, size=(3, n_features))
        b = rng.uniform(0.0, 2.0 * np.pi, size=n_features)
        self.phi = (np.sqrt(2.0 / n_features) * np.cos(xyz @ w + b)).astype(np.float32)  # (cell, K)
        self.n_features = n_features

    def subset(self, cells: slice) -> "FeatureBasis":
        """The same features evaluated at the cells ``cells`` only (no random numbers drawn);
        ``cells.start`` a multiple of ``CELL_BLOCK``, so the blocks are the whole world's."""
        if (cells.start or 0) % CELL_BLOCK:
            raise ValueError(f"a range of cells must start at a multiple of {CELL_BLOCK}; got {cells.start}")
        basis = object.__new__(FeatureBasis)
        basis.phi, basis.n_features = self.phi[cells], self.n_features
        return basis

    def static(self, rng: np.random.Generator) -> np.ndarray:
        """One unit-variance field, (cell,)."""
        return self._fields(rng.standard_normal(self.n_features).astype(np.float32)[None, :])[0]

    def daily(self, n_days: int, rho: float, state: np.ndarray | None, rng: np.random.Generator
              ) -> tuple[np.ndarray, np.ndarray]:
        """``n_days`` unit-variance fields with lag-one autocorrelation ``rho``, (day, cell).

        ``state`` is the last day's coefficients (None draws from the stationary
        distribution); the new last state is returned so years join without a seam.
        """
        noise = rng.standard_normal((n_days, self.n_features))
        coeffs = np.empty_like(noise)
        previous = rng.standard_normal(self.n_features) if state is None else state
        scale = np.sqrt(1.0 - rho * rho)
        for day in range(n_days):
            previous = rho * previous + scale * noise[day]
            coeffs[day] = previous
        return self._fields(coeffs.astype(np.float32)), previous

    def _fields(self, coeffs: np.ndarray) -> np.ndarray:
        """(day, cell) = coeffs (day, K) @ phiᵀ, block by block on one BLAS thread (see above)."""
        out = np.empty((coeffs.shape[0], self.phi.shape[0]), np.float32)
        with threadpool_limits(1, user_api="blas"):
            for start in range(0, self.phi.shape[0], CELL_BLOCK):
                out[:, start:start + CELL_BLOCK] = coeffs @ self.phi[start:start + CELL_BLOCK].T
        return out
