"""Flashes stored as plain arrays: NumPy ``.npy`` files and HDF5 datasets.

What to use when
----------------
- :data:`NPY` - a ``.npy`` array written by ``numpy.save``: ``flashes x samples`` (or one
  flash); integer ADC codes with ``volts_per_code=``, or float volts.
- :data:`HDF5` - one dataset of an HDF5 file (``tree=`` its path, "" for the file's only
  2-D dataset), the same shapes, read with h5py. The dataset's attributes ``dt_s`` and
  ``volts_per_code``, when present, stand for the campaign fields.

Neither format records its sampling in a standard way: ``dt_ns=`` is needed unless the
HDF5 dataset carries ``dt_s``. Pickled object arrays are refused (data, never code).
"""

from __future__ import annotations

import io

import numpy as np

from pmtgain.errors import TrcError
from pmtgain.io.block import Block, Format, file_block

__all__ = ["NPY", "HDF5", "array_block"]


def array_block(k: int, a: np.ndarray, path: str, settings, dt_s: float | None = None,
                scale: float | None = None) -> Block:
    """An array's rows as the flashes of file ``k``: codes scaled by ``volts_per_code``,
    clipped at the dtype's lowest value (or ``adc_min=``) for integers."""
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] < 2 or a.shape[0] < 1:
        raise TrcError(path, f"an array of shape {a.shape}, expected flashes x samples")
    if a.dtype.kind not in "iuf":
        raise TrcError(path, f"an array of {a.dtype}, expected integer codes or float volts")
    integer = a.dtype.kind in "iu"
    if not integer and a.dtype != np.float64:
        a = a.astype(np.float64)
    if not integer and not np.isfinite(a).all():
        raise TrcError(path, "a sample is not a number (NaN or infinite)")
    gain = settings.scale(path, integer) if scale is None else scale
    floor = settings.floor(float(np.iinfo(a.dtype).min) if integer else -np.inf)
    dt = settings.dt_s(path) if dt_s is None else dt_s
    return file_block(k, a, gain, settings.offset_V, dt, 0.0, settings.t0_ns * 1e-9, floor)


def _npy(k: int, buf: bytes, path: str, settings) -> Block:
    try:
        a = np.load(io.BytesIO(buf), allow_pickle=False)
    except ValueError as exc:  # includes "Object arrays cannot be loaded..."
        raise TrcError(path, f"not a readable .npy array ({exc})") from None
    except (OSError, EOFError) as exc:
        raise TrcError(path, f"truncated or not a .npy file ({exc})") from None
    if not isinstance(a, np.ndarray):
        raise TrcError(path, "a .npz archive, not one .npy array")
    return array_block(k, a, path, settings)


def _datasets(f) -> list[str]:
    found: list[str] = []
    f.visititems(lambda name, obj: found.append(name)
                 if getattr(obj, "ndim", 0) == 2 else None)
    return found


def _hdf5(k: int, buf: bytes, path: str, settings) -> Block:
    try:
        import h5py
    except ImportError:
        raise TrcError(path, "reading HDF5 needs h5py (pip install h5py)") from None
    try:
        with h5py.File(io.BytesIO(buf), "r") as f:
            name = settings.tree
            if not name:
                found = _datasets(f)
                if len(found) != 1:
                    raise TrcError(path, f"{len(found)} 2-D datasets "
                                   f"({', '.join(found[:5]) or 'none'}): name one with tree=")
                name = found[0]
            if name not in f or not hasattr(f[name], "shape"):
                raise TrcError(path, f"no dataset {name!r}")
            ds = f[name]
            a = ds[()]
            dt = float(ds.attrs["dt_s"]) if "dt_s" in ds.attrs and np.isnan(
                settings.dt_ns) else None
            scale = (float(ds.attrs["volts_per_code"]) if "volts_per_code" in ds.attrs
                     and np.isnan(settings.volts_per_code) else None)
    except TrcError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TrcError(path, f"not a readable HDF5 file ({exc})") from None
    if dt is not None and not (np.isfinite(dt) and dt > 0):
        raise TrcError(path, f"its dt_s attribute {dt!r} is not a positive spacing")
    if scale is not None and not (np.isfinite(scale) and scale > 0):
        raise TrcError(path, f"its volts_per_code attribute {scale!r} is not positive")
    return array_block(k, np.asarray(a), path, settings, dt_s=dt, scale=scale)


NPY = Format("npy", (".npy",), lambda head: head.startswith(b"\x93NUMPY"), _npy)
HDF5 = Format("hdf5", (".h5", ".hdf5", ".hdf"),
              lambda head: head.startswith(b"\x89HDF\r\n\x1a\n"), _hdf5)
