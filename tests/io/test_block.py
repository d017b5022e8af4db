"""Blocks of flashes: packing promotes codes, marks clipping; taking splits."""

import numpy as np

from pmtgain.io.block import file_block, pack, take


def test_pack_promotes_codes_and_marks_clipping_at_each_floor():
    a = file_block(0, np.array([[-128, 0], [1, 2]], np.int8), 1.0, 0.0, 1e-9, 0.0, 0.0, -128)
    b = file_block(1, np.array([[0, 5]], np.uint16), 2.0, 1.0, 1e-9, 0.0, 0.0, 0)
    p = pack([a, b])
    assert p.codes.dtype == np.int32 and p.clipped.tolist() == [True, False, True]
    assert p.idx.tolist() == [0, 0, 1] and p.gain.tolist() == [1.0, 1.0, 2.0]


def test_take_splits_a_block():
    a = file_block(0, np.zeros((5, 3), np.int8), 1.0, 0.0, 1e-9, 0.0, 0.0, -128)
    out, rest = take([a, a], 7)
    assert [len(x) for x in out] == [5, 2] and [len(x) for x in rest] == [3]
    assert rest[0].segment.tolist() == [2, 3, 4]
