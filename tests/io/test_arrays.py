"""NumPy .npy and HDF5 arrays of flashes."""

import numpy as np
import pytest

from devtools.writers import write_hdf5
from pmtgain.errors import TrcError
from pmtgain.io.arrays import HDF5, NPY
from pmtgain.io.readers import ReadSettings

S = ReadSettings(dt_ns=0.5, volts_per_code=1e-3)


def _parse(fmt, path, s=S):
    return fmt.parse(0, path.read_bytes(), str(path), s)


def test_npy_codes_and_volts(tmp_path, rng):
    codes = rng.integers(-128, 128, (20, 100)).astype(np.int8)
    np.save(tmp_path / "a.npy", codes)
    b = _parse(NPY, tmp_path / "a.npy")
    np.testing.assert_array_equal(b.codes, codes)
    assert b.floor[0] == -128 and b.gain[0] == 1e-3 and b.dt[0] == 0.5e-9
    volts = rng.normal(0, 0.01, (5, 100)).astype(np.float32)
    np.save(tmp_path / "v.npy", volts)
    b = _parse(NPY, tmp_path / "v.npy", ReadSettings(dt_ns=0.5))
    assert b.gain[0] == 1.0 and b.codes.dtype == np.float64 and b.floor[0] == -np.inf


def test_npy_refuses_pickles_nan_and_wrong_shapes(tmp_path):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(TrcError, match="not a readable .npy"):
        _parse(NPY, tmp_path / "o.npy")
    np.save(tmp_path / "n.npy", np.array([[0.0, np.nan, 1.0]]))
    with pytest.raises(TrcError, match="not a number"):
        _parse(NPY, tmp_path / "n.npy")
    np.save(tmp_path / "s.npy", np.zeros((2, 3, 4)))
    with pytest.raises(TrcError, match="shape"):
        _parse(NPY, tmp_path / "s.npy")
    (tmp_path / "t.npy").write_bytes(b"\x93NUMPY\x01\x00")
    with pytest.raises(TrcError, match="npy"):
        _parse(NPY, tmp_path / "t.npy")


def test_hdf5_dataset_found_named_and_its_attributes(tmp_path, rng):
    codes = rng.integers(-100, 100, (10, 64)).astype(np.int16)
    f = tmp_path / "run.h5"
    write_hdf5(f, codes, dt_s=2e-9)
    b = _parse(HDF5, f, ReadSettings(volts_per_code=1e-3))
    np.testing.assert_array_equal(b.codes, codes)
    assert b.dt[0] == 2e-9  # the attribute stands for dt_ns=
    with pytest.raises(TrcError, match="no dataset 'ch2'"):
        _parse(HDF5, f, ReadSettings(volts_per_code=1e-3, tree="ch2"))
    import h5py

    with h5py.File(f, "a") as h:
        h.create_dataset("other", data=codes)
    with pytest.raises(TrcError, match="2 2-D datasets"):
        _parse(HDF5, f)
    assert len(_parse(HDF5, f, ReadSettings(volts_per_code=1e-3, tree="other",
                                           dt_ns=1.0))) == 10
    f.write_bytes(f.read_bytes()[:300])
    with pytest.raises(TrcError, match="HDF5"):
        _parse(HDF5, f)
