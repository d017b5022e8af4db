"""trcwrite.py: what it writes is read back exactly (8/16 bit, both byte orders, sequence
files), and it quantises and clips like an oscilloscope."""

import numpy as np
import pytest

from pmtgain.io.trc import read_trc
from pmtgain.io.trcwrite import write_trc


@pytest.mark.parametrize("bits, little", [(8, True), (16, False)])
def test_written_bytes_read_back(tmp_path, rng, bits, little):
    v = 0.01 * rng.standard_normal((3, 200))
    gain = 1e-4 if bits == 8 else 1e-6
    b = write_trc(tmp_path / "x.trc", v, dt_s=2e-10, bits=bits, little_endian=little,
                  vertical_gain=gain, trigger_times=np.array([0.0, 1e-3, 2e-3]),
                  trigger_offsets=np.full(3, -1e-8))
    assert (tmp_path / "x.trc").read_bytes() == b
    tr = read_trc(tmp_path / "x.trc")
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    np.testing.assert_allclose(tr.volts, gain * np.clip(np.rint(v / gain), lo, hi),
                               atol=gain * 1e-3)
    assert tr.header.segments == 3 and tr.header.bits == bits


def test_saturates_like_a_scope(tmp_path):
    write_trc(tmp_path / "s.trc", np.array([0.0, -5.0, 5.0]), dt_s=1e-10, bits=8,
              vertical_gain=1e-3)
    v = read_trc(tmp_path / "s.trc").volts[0]
    assert v[1] == pytest.approx(-0.128) and v[2] == pytest.approx(0.127)
    with pytest.raises(ValueError, match="bits must be 8 or 16"):
        write_trc(None, np.zeros(3), dt_s=1e-10, bits=12)
