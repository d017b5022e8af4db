"""Simulated dark runs and long-record runs with their truth: what
:mod:`pmtgain.point.darkrun` and :mod:`pmtgain.point.longrun` are checked against.

What to use when
----------------
- :func:`dark_pmt` - a PMT as a dark run records it: no light, dark pulses at ``rate_hz``
  (Poisson in time, :mod:`pmtgain.sim.photoelectrons`), long records; ``trigger="self"``:
  each record also holds the single photoelectron it triggered on, at t = 0, with
  ``pre_ns`` of record before it.
- :func:`write_dark_run` - such a run as ``.trc`` files (sequence files of ``segments``
  records), and its truth.
- :func:`expected_rate` - the true rate of pulses deeper than a threshold: the rate times
  the share of single photoelectrons whose noise-free sampled pulse goes below it (their
  charge spread and the sampling phase, by Monte Carlo on the same pulse).
- :func:`simulate_dark_runs` - one dark run per PMT in a campaign
  (``data_info/dark_pmt_<i>.txt``), truth in ``truth/dark_summary.csv``.
- :func:`long_pmt` / :func:`simulate_long_runs` - LED flashes with records of
  ``after_ns`` after the pulse and afterpulses in ion groups (``afterpulse_groups``:
  probability per photoelectron, delay, rms), a long-record run per PMT
  (``data_info/afterpulse_pmt_<i>.txt``), truth in ``truth/afterpulse_summary.csv``.
"""

from __future__ import annotations

import csv
import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from pmtgain.sim.photoelectrons import pe_charges
from pmtgain.sim.simulate import E_CHARGE_C, R_TERMINATION_OHM, SimPMT, write_point

__all__ = ["dark_pmt", "write_dark_run", "expected_rate", "simulate_dark_runs",
           "DARK_TRUTH_COLUMNS", "long_pmt", "simulate_long_runs"]

DARK_TRUTH_COLUMNS = ("pmt", "hv", "trigger", "n_records", "rate_hz", "record_ns",
                      "single_pe_peak_V")


def dark_pmt(pmt: SimPMT, rate_hz: float, *, record_ns: float = 10000.0,
             trigger: str = "random", pre_ns: float | None = None, **overrides) -> SimPMT:
    """The PMT in a dark run (see the module docstring); the scope's range is 8 single
    photoelectrons' peak at the PMT's gain (a few mV per division) (``range_V`` overrides)."""
    n = int(round(record_ns / (overrides.get("dt_ns", pmt.dt_ns))))
    if trigger == "self":
        pre = record_ns * 0.9 if pre_ns is None else pre_ns
        kw = dict(mu_pe=1.0, fixed_pe=1, onset_ns=0.0, record_onset_ns=pre,
                  transit_1000V_ns=0.0)
    elif trigger == "random":
        kw = dict(mu_pe=0.0, fixed_pe=0, record_onset_ns=record_ns / 2)
    else:
        raise ValueError(f"trigger={trigger!r}: random or self")
    kw.update(n_samples=n, dark_rate_hz=rate_hz, dark_prob=0.0, afterpulse_prob=0.0,
              afterpulse_groups=(), led_drift=0.0)
    kw.update(overrides)
    return replace(pmt, **kw)


def single_pe_peak(pmt: SimPMT, hv: int) -> float:
    """The peak (> 0, V) of a mean single photoelectron's pulse at ``hv``."""
    return abs(replace(pmt, mu_pe=1.0).single_pe_peak_V(hv))


def _range_V(pmt: SimPMT, hv: int) -> float:
    return pmt.range_V or max(8.0 * single_pe_peak(pmt, hv), 40.0 * pmt.noise_V)


def write_dark_run(directory: str | os.PathLike, pmt: SimPMT, hv: int, n: int,
                   seed: int = 1, segments: int = 100, dead_s: float = 20e-6) -> dict:
    """A dark run of ``pmt`` (already :func:`dark_pmt`'s) at ``hv``; the truth. A
    self-triggered run's records come as a scope that triggers on every dark pulse takes
    them: ``dead_s`` after a record, then an exponential wait at ``dark_rate_hz`` (the
    trigger level is at the pulse's onset, so every pulse beyond any threshold triggers;
    the pre-trigger record's own pulses are the simulator's, Poisson)."""
    times = None
    if pmt.fixed_pe and pmt.dark_rate_hz > 0:
        rng = np.random.default_rng([seed, 977])
        times = np.cumsum(dead_s + rng.exponential(1.0 / pmt.dark_rate_hz, n))
    return write_point(directory, replace(pmt, range_V=_range_V(pmt, hv)), hv, n, seed,
                       segments=segments, times_s=times)


def expected_rate(pmt: SimPMT, hv: int, thr_V: float, n_mc: int = 100000,
                  seed: int = 7, noise: bool = False) -> float:
    """The rate (Hz) of dark pulses whose sampled pulse goes below ``-thr_V``:
    ``dark_rate_hz`` x the share of single photoelectrons (the PMT's charge spectrum) at
    a uniformly random sampling phase whose deepest sample is beyond the threshold;
    noise-free, or (``noise``) with the PMT's Gaussian noise on every sample (what a
    discriminator at the threshold counts: a pulse just below it may cross with the
    noise's help)."""
    rng = np.random.default_rng(seed)
    x = pe_charges(rng, np.ones(n_mc, int), pmt)
    ger = pmt.gain(hv) * E_CHARGE_C * R_TERMINATION_OHM * 1e9  # V ns per photoelectron
    s = np.arange(0.0, 200.0, pmt.dt_ns)
    phase = np.linspace(0.0, pmt.dt_ns, 64, endpoint=False)
    u = pmt.unit_pulse(s[None, :] + phase[:, None])  # 1/ns, at 64 sampling phases
    k = int(np.argmax(u.mean(axis=0)))
    near = u[:, max(k - 8, 0):k + 9]  # the samples about the peak
    v = x[:, None] * ger * near[rng.integers(0, phase.size, n_mc)]
    if noise:
        v = v + pmt.noise_V * rng.standard_normal(v.shape)
    return float(pmt.dark_rate_hz * np.mean(v.max(axis=1) > thr_V))


def simulate_dark_runs(outdir: str | os.PathLike, pmts, hv: int = 1300, n: int = 500,
                       rate_hz: float = 20e3, trigger: str = "random", seed: int = 1,
                       base_url: str | None = None, **kw) -> Path:
    """One dark run per PMT: ``outdir/<folder>/dark_<hv>/Autosave/``, listed in
    ``outdir/data_info/dark_pmt_<i>.txt`` (``trigger=self`` on the line when so), truth
    in ``outdir/truth/dark_summary.csv``; ``kw`` go to :func:`dark_pmt`."""
    out = Path(outdir)
    (out / "data_info").mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    rows = []
    for p in pmts:
        dp = dark_pmt(p, rate_hz, trigger=trigger, **kw)
        rel = f"{p.folder}/dark_{hv}/Autosave/"
        truth = write_dark_run(out / rel, dp, hv, n, seed + 4481)
        url = (base_url.rstrip("/") + "/" + rel) if base_url else str((out / rel).resolve()) + "/"
        opt = " trigger=self" if trigger == "self" else ""
        (out / "data_info" / f"dark_pmt_{p.pmt}.txt").write_text(
            f"# dark run of PMT {p.pmt}: <dir_url> <pmt> <hv> <n_files> [trigger=self]\n"
            f"{url} {p.pmt} {hv} {len(set(truth['file'].tolist()))}{opt}\n")
        rows.append([p.pmt, hv, trigger, n, rate_hz, dp.n_samples * dp.dt_ns,
                     f"{single_pe_peak(dp, hv):.6g}"])
    with open(out / "truth" / "dark_summary.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(DARK_TRUTH_COLUMNS)
        w.writerows(rows)
    return out


def long_pmt(pmt: SimPMT, groups, *, mu: float = 20.0, after_ns: float = 2500.0,
             **overrides) -> SimPMT:
    """The PMT in a long-record run: ``mu`` photoelectrons a flash, ``after_ns`` of record
    after the pulse (100 ns before it), afterpulses in ``groups``."""
    kw = dict(mu_pe=mu, afterpulse_groups=tuple(groups), record_onset_ns=100.0,
              n_samples=int(round((100.0 + after_ns) / overrides.get("dt_ns", pmt.dt_ns))))
    kw.update(overrides)
    return replace(pmt, **kw)


def simulate_long_runs(outdir: str | os.PathLike, pmts, hv: int = 1300, n: int = 1000,
                       seed: int = 1, **kw) -> Path:
    """One long-record run per PMT (``kw``: :func:`long_pmt`'s, ``groups`` among them):
    ``outdir/<folder>/ap_<hv>/Autosave/``, ``data_info/afterpulse_pmt_<i>.txt``, truth
    (the afterpulses per photoelectron, the realised ones per flash) in
    ``truth/afterpulse_summary.csv``."""
    out = Path(outdir)
    (out / "data_info").mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    rows = []
    for p in pmts:
        lp = long_pmt(p, **kw)
        rel = f"{p.folder}/ap_{hv}/Autosave/"
        truth = write_point(out / rel, lp, hv, n, seed + 6007, segments=100)
        (out / "data_info" / f"afterpulse_pmt_{p.pmt}.txt").write_text(
            f"# long-record run of PMT {p.pmt}: <dir_url> <pmt> <hv> <n_files>\n"
            f"{(out / rel).resolve()}/ {p.pmt} {hv} {len(set(truth['file'].tolist()))}\n")
        rows.append([p.pmt, hv, n, lp.mu_pe, sum(g[0] for g in lp.afterpulse_groups),
                     float(truth["n_after"].mean())])
    with open(out / "truth" / "afterpulse_summary.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["pmt", "hv", "n_flashes", "mu_pe", "afterpulse_prob",
                    "afterpulses_per_flash"])
        w.writerows(rows)
    return out
