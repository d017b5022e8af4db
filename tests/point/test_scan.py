"""scan.py: the first pass counts every flash as prepare does and its mean pulse is the
mean of the counted, baseline-subtracted flashes, in any chunking."""

from dataclasses import replace

import numpy as np
import pytest

from pmtgain.io.flashes import ChunkReader, read_many
from pmtgain.point.model import Status
from pmtgain.point.prepare import prepare
from pmtgain.point.scan import scan_point
from pmtgain.sim.regimes import REGIMES
from pmtgain.sim.simulate import write_point


@pytest.mark.parametrize("chunk", [7, 10_000])
def test_the_mean_pulse_is_the_mean_of_the_counted_flashes(tmp_path, chunk):
    pmt = replace(REGIMES["wander-dark"][0][0], range_factor=1.2)  # dark pulses, clipping
    write_point(tmp_path, pmt, 1400, 120, seed=2)
    files = sorted(tmp_path.glob("*.trc"))
    s = scan_point(ChunkReader(files, chunk=chunk))
    mt = read_many(files)
    p = prepare(mt.volts, mt.t0_s, mt.dt_s, None, mt.clipped, geometry=s.geometry,
                noise_ref=s.noise_ref if chunk > 120 else None)
    c = p.status == Status.OK
    assert s.n_all == 120
    assert s.n_clipped == int((p.status == Status.CLIPPED).sum()) > 0
    if chunk > 120:  # one chunk: the noise scale is the same, so is every decision
        assert s.n_pre_pulse == int((p.status == Status.PRE_PULSE).sum())
        np.testing.assert_allclose(s.mean_pulse, p.y[c].mean(axis=0), atol=1e-12)
    assert s.sample.shape == (s.n_counted, mt.volts.shape[1])
    assert s.dt_ns == pytest.approx(pmt.dt_ns)


def test_nothing_readable_is_one_error_naming_the_point(tmp_path):
    (tmp_path / "a.trc").write_bytes(b"not a trc file")
    with pytest.raises(ValueError, match=r"PMT 3 at 900 V: none of the 1 files could be "
                                         r"read \(a.trc: "):
        scan_point(ChunkReader([tmp_path / "a.trc"]), pmt=3, hv=900)


def test_files_that_never_arrived_are_named_in_the_error(tmp_path):
    """An HTCondor job whose downloads all failed: the hold reason says why (HTTP 404)."""
    missing = [(f"C1--n16deg--{i:05d}.trc", "HTTP 404") for i in range(30)]
    with pytest.raises(ValueError, match=r"none of the 30 files could be read "
                                         r"\(C1--n16deg--00000.trc: HTTP 404; "):
        scan_point(ChunkReader([]), pmt=2, hv=1300, missing=missing)
