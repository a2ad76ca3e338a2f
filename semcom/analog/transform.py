"""The decorrelating transform of analog transmission, in numpy alone: a channel transform (a
C x C matrix: PCA fitted on data, YCbCr, or the identity), then an orthonormal DCT-II over the two
spatial axes, then the coefficients cut into b x b frequency chunks (SoftCast's chunks).

Chunk order: channel-major, then the chunk's row and column in the frequency plane, so chunk
``c * (H // b) * (W // b) + i * (W // b) + j`` holds coefficients ``[c, i*b:(i+1)*b, j*b:(j+1)*b]``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

# Full-range YCbCr (JPEG / ITU-R BT.601) on RGB: the fixed channel transform of SoftCast on pixels.
YCBCR = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]], dtype=np.float64)


@lru_cache(maxsize=16)
def dct_matrix(n: int) -> NDArray[np.float64]:
    """The orthonormal DCT-II matrix D (n x n): ``D @ x`` is the DCT of x, ``D.T @ X`` its inverse."""
    if n < 1:
        raise ValueError(f"DCT size must be >= 1, got {n}")
    k = np.arange(n, dtype=np.float64)[:, None]
    i = np.arange(n, dtype=np.float64)[None, :]
    d: NDArray[np.float64] = np.sqrt(2.0 / n) * np.cos(np.pi * (2.0 * i + 1.0) * k / (2.0 * n))
    d[0] /= np.sqrt(2.0)
    d.setflags(write=False)
    return d


def check_shape(shape: tuple[int, ...], chunk: int) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise ValueError(f"an analog source is a (C, H, W) tensor, got shape {tuple(shape)}")
    c, h, w = (int(s) for s in shape)
    if min(c, h, w) < 1 or h % chunk or w % chunk:
        raise ValueError(f"source shape {tuple(shape)}: H and W must be positive multiples of the chunk size {chunk}")
    return c, h, w


def forward(x: NDArray[Any], channel: NDArray[np.float64]) -> NDArray[np.float64]:
    """Channel transform then 2-D DCT: (C, H, W) -> (C, H, W) coefficients (float64)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.einsum("dc,chw->dhw", channel, x, optimize=True)
    dh, dw = dct_matrix(x.shape[1]), dct_matrix(x.shape[2])
    return np.asarray(np.matmul(np.matmul(dh, y), dw.T), dtype=np.float64)


def inverse(coeffs: NDArray[Any], channel_inv: NDArray[np.float64]) -> NDArray[np.float64]:
    """The inverse of `forward`, given the channel transform's inverse."""
    coeffs = np.asarray(coeffs, dtype=np.float64)
    dh, dw = dct_matrix(coeffs.shape[1]), dct_matrix(coeffs.shape[2])
    y = np.matmul(np.matmul(dh.T, coeffs), dw)
    return np.asarray(np.einsum("dc,chw->dhw", channel_inv, y, optimize=True), dtype=np.float64)


def to_chunks(coeffs: NDArray[Any], chunk: int) -> NDArray[Any]:
    """(C, H, W) -> (n_chunks, chunk * chunk), in the module's chunk order."""
    c, h, w = coeffs.shape
    b = int(chunk)
    return coeffs.reshape(c, h // b, b, w // b, b).transpose(0, 1, 3, 2, 4).reshape(-1, b * b)


def from_chunks(chunks: NDArray[Any], shape: tuple[int, int, int], chunk: int) -> NDArray[Any]:
    """The inverse of `to_chunks`."""
    c, h, w = shape
    b = int(chunk)
    return chunks.reshape(c, h // b, w // b, b, b).transpose(0, 1, 3, 2, 4).reshape(c, h, w)


def pca_channels(samples: NDArray[Any]) -> NDArray[np.float64]:
    """The PCA channel transform (rows: eigenvectors, largest variance first) of (N, C, H, W)
    samples: decorrelates the channels at every position."""
    s = np.asarray(samples, dtype=np.float64)
    flat = s.transpose(1, 0, 2, 3).reshape(s.shape[1], -1)
    flat = flat - flat.mean(axis=1, keepdims=True)
    cov = flat @ flat.T / max(1, flat.shape[1] - 1)
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1]
    v = vectors[:, order].T
    v *= np.where(v[np.arange(v.shape[0]), np.abs(v).argmax(axis=1)] < 0, -1.0, 1.0)[:, None]  # sign convention
    return v
