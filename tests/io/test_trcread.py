"""The .trc batch path and the one-file path agree; what fails is named."""

import numpy as np

from pmtgain.io.trcread import parse_batch, parse_file, sniff
from pmtgain.io.trcwrite import write_trc


def test_batch_and_single_file_parse_alike(rng):
    bufs = [write_trc(None, rng.normal(0, 0.01, 100), dt_s=1e-10, vertical_gain=1e-3)
            for _ in range(3)]
    seq = write_trc(None, rng.normal(0, 0.01, (4, 100)), dt_s=1e-10, vertical_gain=1e-3)
    batch = [(0, "a", bufs[0]), (1, "b", bufs[1]), (2, "s", seq), (3, "c", bufs[2]),
             (4, "gone", "no such file"), (5, "bad", bufs[0][:200])]
    errors: list = []
    blocks = parse_batch(batch, errors)
    assert [p for p, _ in errors] == ["gone", "bad"]
    idx = np.concatenate([b.idx for b in blocks])
    assert idx.tolist() == [0, 1, 2, 2, 2, 2, 3]
    one = parse_file(0, bufs[0], "a")
    np.testing.assert_array_equal(one.codes, blocks[0].codes[:1])
    assert one.floor[0] == -128 and sniff(bufs[0][:64]) and not sniff(b"root" + bytes(60))
    assert parse_batch([], errors) == []
