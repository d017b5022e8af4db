"""The writers give one file per format, each with the fields its campaign line needs."""

import numpy as np

from devtools.writers import write_all


def test_write_all_names_every_format_and_its_fields(tmp_path, rng):
    codes = rng.integers(-50, 50, (6, 40)).astype(np.int8)
    out = write_all(tmp_path, codes, 1e-3, 0.01, 1e-9, 0.0, root=False)
    assert set(out) == {"trc", "root_uproot", "wavedump", "wavedump_ascii", "isf", "wfm", "hdf5",
                        "npy"}
    assert all((tmp_path / f).stat().st_size > codes.size for f, _ in out.values())
    assert out["wavedump"][1]["volts_per_code"] == repr(1e-3)
