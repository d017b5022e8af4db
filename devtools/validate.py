"""Checks of a point's numbers against simulated truth, through real ``.trc`` files.

What to use when
----------------
- :func:`check_point` - simulate one (PMT, HV) point, write its files, run
  :func:`pmtgain.point.process_point` on them, and compare: the mean charge against the
  true mean over *all* flashes, the photostatistics gain against the true gain.
- :func:`check_regime` - every point of a regime of :data:`pmtgain.sim.regimes.REGIMES`.

Used by ``tests/sim/test_regimes.py`` (asserts) and ``bench/regimes.py`` (prints the table
regime x PMT). The tolerance of a mean is ``max(0.3 %, 3 standard errors)``, with the
standard error of the paired difference: ``var(Q - Q_true)/n`` over the flashes that count,
plus ``f var(Q_true)/n`` for the share ``f`` that does not (their true charges are in the
truth's mean, not in the estimate), plus the window's own error
(``mean_charge_window_err_pC``). ``pull`` is the deviation from the same flashes' true
mean over the point's own ``mean_charge_err``; ``pull_population`` the deviation from
the population's mean (the gain law's, as recorded) over ``mean_charge_err`` itself;
``filter_noise_ratio`` the noise of the per-flash (filtered) charge over the window sum's;
the gain is compared with the gain *as recorded* (the true gain times the share of a
photoelectron's charge the record holds, ``record_charge_scale``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from pmtgain.point.process import process_point
from pmtgain.sim.regimes import REGIMES
from pmtgain.sim.simulate import SimPMT, write_point


def check_point(pmt: SimPMT, hv: int, n: int, *, cut: bool = False, seed: int = 5,
                workdir: str | Path | None = None) -> dict:
    """One point through files and :func:`process_point`, against its truth."""
    with tempfile.TemporaryDirectory(dir=workdir) as d:
        truth = write_point(d, pmt, hv, n, seed=seed)
        files = sorted(Path(d).glob("*.trc"))
        res = process_point(files, pmt=pmt.pmt, hv=hv, enf=pmt.enf,
                            cut_V=pmt.cut_V(hv) if cut else None)
    s, tab = res.summary, res.table
    qt = truth["q_true_pC"]
    q = tab["window_charge_pC"].to_numpy(float)
    c = (tab["status"] == "ok").to_numpy()
    f = 1.0 - c.mean()
    se = float(np.sqrt(np.var(q[c] - qt[c]) / c.sum() + f * np.var(qt) / n
                       + s["mean_charge_window_err_pC"] ** 2))
    dev = s["mean_charge"] / qt.mean() - 1.0
    tol = max(0.003, 3 * se / abs(qt.mean()))
    # the gain as recorded: what the record's integral holds of each photoelectron's charge
    g_true = pmt.gain(hv) * float(truth.get("record_charge_scale", 1.0))
    # the pull against the population's mean (what mean_charge_err is the error of): the
    # expected charge of the gain law, as recorded
    expected = pmt.mean_charge_pC(hv) * float(truth.get("record_charge_scale", 1.0))
    pull_pop = (s["mean_charge"] - expected) / s["mean_charge_err"]
    pull = (s["mean_charge"] - qt.mean()) / s["mean_charge_err"]
    qf = tab["charge_pC"].to_numpy(float)
    noise_ratio = float(np.std(qf[c] - qt[c]) / np.std(q[c] - qt[c]))
    return dict(pmt=pmt.pmt, hv=hv, n=n, deviation=dev, tolerance=tol,
                ratio=abs(dev) / tol, pull=pull, pull_population=pull_pop,
                filter_noise_ratio=noise_ratio,
                window_ns=s["window_hi_ns"] - s["window_lo_ns"],
                gain_pull=(s["gain"] - g_true) / s["gain_err"],
                gain_dev=s["gain"] / g_true - 1, n_pe=s["n_pe"],
                gain_flag=s["gain_flag"], point_flag=s["point_flag"],
                shape_source=s["shape_source"], n_clipped=s["rejected_clipped"],
                n_used=s["n_used"], cut_flag=s.get("cut_flag", ""),
                cut_removed=s.get("cut_removed_fraction"), snr=s["snr"],
                mean_charge=s["mean_charge"], mean_charge_cut=s.get("mean_charge_cut"),
                cut_bias_pC=s.get("cut_bias_pC"), cut_bias_err_pC=s.get("cut_bias_err_pC"),
                tail_missing=s["tail_missing_fraction"])


def check_regime(name: str, n: int = 2000, hv=(700, 800, 900, 1000, 1200, 1400),
                 seed: int = 5, workdir: str | Path | None = None) -> list[dict]:
    """Every PMT of regime ``name`` at every ``hv``."""
    pmts, cut = REGIMES[name]
    return [dict(regime=name, **check_point(p, v, n, cut=cut, seed=seed, workdir=workdir))
            for p in pmts for v in hv]
