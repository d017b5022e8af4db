"""Flashes on one time axis: records shifted by their own trigger offsets.

What to use when
----------------
- :func:`sample_shifts` - by how many whole samples each flash's record starts later
  than the point's reference (the time of sample 0, ``HORIZ_OFFSET`` for a single-segment
  file, each segment's trigger offset in sequence mode, minus the reference, over the
  sample spacing, rounded).
- :func:`too_far` - the flashes shifted by more than :data:`MAX_SHIFT_FRACTION` of the
  record: they were recorded with another trigger delay, and the reader refuses their
  files by name (:mod:`pmtgain.io.flashes`).
- :func:`check_offsets` - the reader's refusal of those files, with the reason.
- :func:`align` - shift the records in place so that sample ``m`` of every flash is at
  the same time after its trigger.

Why: the integration window, the baseline region and the pedestal are placed in samples
once per point. A file recorded with a trigger delay 5 ns different puts its pulse 5 ns
off that window (-10.9 % on 10 of 50 such files before, and at 10 ns
the flashes were dropped as "pulse in the baseline region"). Aligned to the nearest
sample, a window that holds the pulse with margins holds it whatever the residual
(under half a sample).

The samples a shift leaves without data are filled so that nothing is added to a
flash's charge:

- the first ``k`` of a record that starts ``k`` samples late: its own pre-pulse samples
  reflected at its edge (``numpy.pad(mode="reflect")``), noise of the record's own level,
  never its pulse while ``k`` is below its pre-pulse region (GIN: 200 of 500 samples;
  :data:`MAX_SHIFT_FRACTION` allows 125);
- the last ``k`` of a record that starts early: what the scope did not record, taken as
  the record's baseline level (the mean of its first samples) without noise. A pulse
  whose tail ran past the record's end keeps only what was recorded, as the scope saw it;
  the point's tail-missing check sees the mean pulse end at the record's end.

Flashes shifted by more than :data:`MAX_SHIFT_FRACTION` of the record are refused by
file with the reason (:func:`check_offsets`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_SHIFT_FRACTION", "sample_shifts", "too_far", "align", "check_offsets"]

#: flashes whose record is shifted by more than this share of its length are refused
MAX_SHIFT_FRACTION = 1 / 4


def sample_shifts(t0_s: np.ndarray, t0_ref_s: float, dt_s: float) -> np.ndarray:
    """Whole samples by which each record starts after the reference (int64)."""
    return np.rint((np.asarray(t0_s, float) - t0_ref_s) / dt_s).astype(np.int64)


def too_far(shifts: np.ndarray, npts: int) -> np.ndarray:
    """Flashes whose shift exceeds :data:`MAX_SHIFT_FRACTION` of ``npts`` samples."""
    return np.abs(shifts) > int(npts * MAX_SHIFT_FRACTION)


def align(volts: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """``volts`` (flashes x samples) with row i shifted right by ``shifts[i]`` samples
    (left for negative shifts), the emptied samples reflected; in place, returned."""
    n_pts = volts.shape[1]
    for k in np.unique(shifts):
        if k == 0:
            continue
        rows = np.flatnonzero(shifts == k)
        block = volts[rows]
        if k > 0:
            volts[rows] = np.pad(block, ((0, 0), (int(k), 0)), mode="reflect")[:, :n_pts]
        else:  # the end was not recorded: the record's baseline level, as after a pulse
            base = block[:, :max(1, min(32, n_pts // 4))].mean(axis=1, keepdims=True)
            volts[rows, :k] = block[:, -k:]
            volts[rows, k:] = base
    return volts


def check_offsets(blocks: list, npts: int, dt: float, t0_ref: float | None,
                  paths: list[str], errors: list | None) -> list:
    """The flashes of the reader's ``blocks`` (:mod:`pmtgain.io.flashes`) whose record starts
    within reach of the point's (:func:`too_far`); the others' files reported in
    ``errors`` by name and reason."""
    if t0_ref is None:
        return blocks
    keep = []
    for b in blocks:
        far = too_far(sample_shifts(b.offsets, t0_ref, dt), npts)
        if not far.any():
            keep.append(b)
            continue
        keep.append(b.rows(~far))
        if errors is not None:
            bad, at = np.unique(b.idx[far], return_index=True)
            for j, k in zip(at, bad, strict=True):
                off = b.offsets[far][j]
                errors.append((paths[k], f"its record starts {(off - t0_ref) * 1e9:+.1f} ns "
                               "from most flashes of this point (HORIZ_OFFSET or trigger "
                               f"offset {off * 1e9:.2f} ns, most {t0_ref * 1e9:.2f} ns): "
                               "another trigger delay, beyond the "
                               f"{int(npts * MAX_SHIFT_FRACTION)} samples the reader "
                               "aligns"))
    return keep
