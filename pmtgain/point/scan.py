"""The first pass over a point: which flashes count, and their mean pulse.

What to use when
----------------
- :func:`scan_point` - one pass over a point's chunks of flashes
  (:class:`pmtgain.io.flashes.ChunkReader`): the baseline region and LED window of the first
  chunk (:func:`pmtgain.point.prepare.locate`, unless a geometry is given), which flashes count
  (:func:`pmtgain.point.prepare.tally`), their mean baseline-subtracted trace, and a sample of
  traces for the shape fit's errors. No trace is kept beyond that sample: memory stays
  flat at any number of flashes.
- :class:`Scan` - what it returns; the window (:mod:`pmtgain.point.window`) is placed on its
  ``mean_pulse``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from pmtgain.config import DEFAULT_FIT, FitConfig
from pmtgain.errors import InputError
from pmtgain.io.flashes import ChunkReader
from pmtgain.point.model import NS, Status
from pmtgain.point.prepare import Geometry, Prepared, locate, tally
from pmtgain.point.window import flash_block_noise, mean_block_sigma

__all__ = ["SHAPE_SAMPLE", "Scan", "scan_point", "as_prepared"]

#: counted flashes kept for the sandwich errors of the shape fit (a covariance estimate)
SHAPE_SAMPLE = 1000


@dataclass
class Scan:
    """A point's first pass (see :func:`scan_point`)."""

    geometry: Geometry
    dt_ns: float
    noise_ref: float  # median noise of the first chunk's flashes (V)
    t0_first_ns: np.ndarray  # time of sample 0 of each flash of the first chunk
    n_all: int  # readable flashes
    n_counted: int
    n_clipped: int
    n_pre_pulse: int
    mean_pulse: np.ndarray  # (N,) mean of volts - baseline over the flashes that count
    sample: np.ndarray  # (<= SHAPE_SAMPLE, N) some of those traces
    block_noise_V: np.ndarray  # per flash: rms of sums of 1, 2, 4, ... baseline samples
    errors: list[tuple[str, str]] = field(default_factory=list)  # unreadable files

    @property
    def t0_ns(self) -> float:
        """The point's time of sample 0 (median over the first chunk)."""
        return float(np.median(self.t0_first_ns)) if self.t0_first_ns.size else 0.0

    @property
    def white_sigma(self) -> float:
        """Noise of one sample of the mean pulse, for white noise (V)."""
        return self.noise_ref / np.sqrt(max(self.n_counted, 1))

    @property
    def sigma_L(self) -> np.ndarray:
        """Noise of the mean pulse's sums of 1, 2, 4, ... samples (V x samples)."""
        return mean_block_sigma(self.block_noise_V, self.n_counted, self.white_sigma)


def scan_point(reader: ChunkReader, config: FitConfig = DEFAULT_FIT,
               geometry: Geometry | None = None, *, pmt: int = 0, hv: int = 0,
               missing: Sequence[tuple[str, str]] = ()) -> Scan:
    """The first pass over ``reader``'s flashes (see the module docstring). Raises
    ``ValueError`` only when no flash at all can be measured (none readable, or every one
    clipped or with a pulse in its baseline region); ``missing``: the files that never
    arrived (``(name, reason)``), named in that error with the unreadable ones."""
    geom, noise_ref, dt_s, t0_first = geometry, None, float("nan"), None
    n_all = n_c = n_clip = n_pre = 0
    s_sum = None
    sample: list[np.ndarray] = []
    for mt in reader:
        if mt.volts.shape[0] == 0:
            continue
        if geom is None:
            geom = locate(mt.volts, mt.clipped, mt.dt_s, config)
        if t0_first is None:
            dt_s = mt.dt_s
        t = tally(mt.volts, mt.clipped, geom, noise_ref, config)
        c = t.counted
        if noise_ref is None:  # the first chunk's scale serves every chunk
            noise_ref, t0_first = t.noise_ref, np.asarray(mt.t0_s, float) / NS
        s_sum = t.y_sum if s_sum is None else s_sum + t.y_sum
        n_all += c.size
        n_c += t.n_counted
        n_clip += int((t.status == Status.CLIPPED).sum())
        n_pre += int((t.status == Status.PRE_PULSE).sum())
        room = SHAPE_SAMPLE - sum(len(x) for x in sample)
        if room > 0:
            sample.append(mt.volts[c][:room] - t.baseline_V[c][:room, None])
    errors = [(os.path.basename(f), r) for f, r in reader.errors]
    if n_all == 0:
        bad = errors + [(os.path.basename(n), r) for n, r in missing]
        reasons = "; ".join(f"{n}: {r}" for n, r in bad[:3])
        raise InputError(f"PMT {pmt} at {hv} V: none of the "
                         f"{len(reader.paths) + len(missing)} files could be read ({reasons})")
    if n_c == 0:
        raise InputError(f"PMT {pmt} at {hv} V: no flash can be measured: of {n_all} "
                         f"readable, {n_clip} clipped at the ADC range and {n_pre} with a "
                         "pulse in the baseline region")
    ys = np.concatenate(sample)
    # from the sample (the first SHAPE_SAMPLE counted flashes): the same in any chunking
    block = flash_block_noise(ys[:, geom.k_edge:geom.k_base], ys.shape[1])
    return Scan(geometry=geom, dt_ns=dt_s / NS, noise_ref=float(noise_ref),
                t0_first_ns=t0_first, n_all=n_all, n_counted=n_c, n_clipped=n_clip,
                n_pre_pulse=n_pre, mean_pulse=s_sum / n_c, sample=ys,
                block_noise_V=block, errors=errors)


def as_prepared(scan: Scan, k_lo: int, k_hi: int, mean_snr: float) -> Prepared:
    """The scan's sample as a :class:`Prepared` on the window ``k_lo .. k_hi - 1`` (what
    a shape table's two-parameter fit reads: :func:`pmtgain.point.shape.shape_from_table`)."""
    n = scan.sample.shape[0]
    g = scan.geometry
    return Prepared(y=scan.sample, t0_ns=scan.t0_first_ns[:n] if scan.t0_first_ns.size >= n
                    else np.full(n, scan.t0_ns), dt_ns=scan.dt_ns, baseline_V=np.zeros(n),
                    noise_V=np.full(n, scan.noise_ref), amplitude_V=np.zeros(n),
                    raw_min_V=np.zeros(n), kmin=np.zeros(n, int),
                    status=np.zeros(n, np.int8), k_lo=k_lo, k_hi=k_hi,
                    k_base=g.k_base, k_edge=g.k_edge, mean_pulse=scan.mean_pulse,
                    onset_ns=g.k_on * scan.dt_ns, snr=0.0, mean_snr=mean_snr)
