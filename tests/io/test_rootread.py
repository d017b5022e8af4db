"""ROOT TTrees as a CAEN digitizer bench writes them: by ROOT itself and by uproot."""

import numpy as np
import pytest
from conftest import root_available

from devtools.writers import write_root, write_root_uproot
from pmtgain.errors import TrcError
from pmtgain.io.readers import ReadSettings
from pmtgain.io.rootread import ROOT_TREE

S = ReadSettings(dt_ns=2.0, volts_per_code=2.0 / 16384, tree="t1", branch="wf0",
                 time_branch="Time")


@pytest.fixture
def codes(rng):
    c = rng.integers(15400, 15600, (30, 250)).astype(np.int32)
    c[4, 50:60] = 0
    return c


def _parse(path, s=S):
    return ROOT_TREE.parse(0, path.read_bytes(), str(path), s)


@pytest.mark.skipif(not root_available(), reason="PyROOT is not installed")
def test_a_tree_written_by_root_reads_by_branch(tmp_path, codes):
    f = tmp_path / "run.root"
    write_root(f, codes, np.arange(30) * 1e-3)
    b = _parse(f)
    np.testing.assert_array_equal(b.codes, codes)
    np.testing.assert_allclose(b.times, np.arange(30) * 1e-3)
    assert (b.codes.min(axis=1) <= b.floor).tolist() == [i == 4 for i in range(30)]
    with pytest.raises(TrcError, match="2 waveform branches"):
        _parse(f, ReadSettings(dt_ns=2.0, volts_per_code=1e-4))
    other = _parse(f, ReadSettings(dt_ns=2.0, volts_per_code=1e-4, branch="wf1"))
    assert (other.codes == 15500).all()


def test_a_tree_written_by_uproot_and_the_errors(tmp_path, codes):
    f = tmp_path / "run.root"
    write_root_uproot(f, codes, np.arange(30) * 1e-3)
    b = _parse(f, ReadSettings(dt_ns=2.0, volts_per_code=1e-4))  # the only tree, branch
    np.testing.assert_array_equal(b.codes, codes)
    with pytest.raises(TrcError, match="no branch 'wf3'"):
        _parse(f, ReadSettings(dt_ns=2.0, volts_per_code=1e-4, branch="wf3"))
    with pytest.raises(TrcError, match="no tree 't2'"):
        _parse(f, ReadSettings(dt_ns=2.0, volts_per_code=1e-4, tree="t2"))
    with pytest.raises(TrcError, match="trigger times"):
        _parse(f, ReadSettings(dt_ns=2.0, volts_per_code=1e-4, time_branch="T"))
    with pytest.raises(TrcError, match="volts_per_code"):
        _parse(f, ReadSettings(dt_ns=2.0))
    f.write_bytes(f.read_bytes()[:1500])
    with pytest.raises(TrcError, match="not a readable ROOT file"):
        _parse(f)
