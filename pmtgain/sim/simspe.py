"""Simulated low-light runs and LED-off runs, with their truth: what :mod:`pmtgain.point.spe` and
the anchored gain are checked against.

What to use when
----------------
- :func:`spe_pmt` - a PMT as a low-light run records it: ``mu`` photoelectrons a flash, a
  record long enough for a pedestal window before the LED window, a single-photoelectron
  scope range; any other :class:`pmtgain.sim.simulate.SimPMT` field may be overridden.
- :func:`with_spe_snr` - the same PMT with its noise set so that a single photoelectron's
  peak is ``ratio`` times the noise rms at ``hv`` (1.5x: unresolved; 14x: well resolved).
- :func:`write_ledoff` - an LED-off run of a point (the same PMT, HV, record and scope
  range, no light): what a pedestal run at the same settings records (noise, ripple,
  the LED driver's pickup when the driver still fires, dark pulses).
- :func:`simulate_spe_runs` - one low-light run per PMT (and LED-off runs) in a campaign
  (``data_info/spe_pmt_<i>.txt``, ``ledoff_pmt_<i>.txt``), truth in
  ``truth/spe_summary.csv``.
- :data:`SPE_REGIMES` - the low-light runs real benches give: single photoelectrons from
  1.5x to 20x the noise, LED pickup and a coherent ripple where the pedestal window would
  go, pickup inside the LED window with an LED-off run, a CAEN-like 2 ns digitizer run.

The truth: the gain as recorded is ``gain(hv) * spe_mean * record_charge_scale``
(``spe_mean``: the mean photoelectron's charge in G e, 1 without an under-amplified share;
``record_charge_scale``: what the record's integral holds of it,
:mod:`pmtgain.sim.simulate`) and F the PMT's ``spe_enf`` (``enf`` without an
under-amplified share; a constant share of each photoelectron's charge in the record
leaves F as it is).
"""

from __future__ import annotations

import csv
import os
from dataclasses import replace
from pathlib import Path

from pmtgain.sim.simulate import DEMO_PMTS, SimPMT, write_point

__all__ = ["SPE_TRUTH_COLUMNS", "spe_pmt", "with_spe_snr", "write_ledoff", "write_spe_run",
           "simulate_spe_runs", "SPE_REGIMES"]

SPE_TRUTH_COLUMNS = ("pmt", "hv", "n_flashes", "mu_pe", "gain", "enf",
                     "record_charge_scale", "ledoff")


def spe_pmt(pmt: SimPMT, mu: float, **overrides) -> SimPMT:
    """The PMT in a low-light run (see the module docstring)."""
    kw = dict(mu_pe=mu, n_samples=700, record_onset_ns=35.0,
              range_factor=max(15.0, 12.0 * 3.0 / mu))
    kw.update(overrides)
    return replace(pmt, **kw)


def with_spe_snr(pmt: SimPMT, hv: int, ratio: float) -> SimPMT:
    """``pmt`` with ``noise_V`` = its single photoelectron's peak at ``hv`` / ``ratio``."""
    return replace(pmt, noise_V=abs(pmt.single_pe_peak_V(hv)) / ratio)


def _span(pmt: SimPMT, hv: int) -> float:
    return pmt.range_V or max(pmt.range_factor * abs(pmt.mean_peak_V(hv)), 40.0 * pmt.noise_V)


def write_ledoff(directory: str | os.PathLike, pmt: SimPMT, hv: int, n: int, seed: int = 1,
                 segments: int = 1000) -> dict:
    """An LED-off run of ``pmt`` at ``hv``: no light, the same scope range as its LED run."""
    off = replace(pmt, mu_pe=0.0, range_V=_span(pmt, hv))
    return write_point(directory, off, hv, n, seed, segments=segments)


def write_spe_run(directory: str | os.PathLike, pmt: SimPMT, hv: int, n: int,
                  seed: int = 1, segments: int = 1000) -> dict:
    """A low-light run of ``pmt`` (already :func:`spe_pmt`'s) at ``hv``; the truth."""
    return write_point(directory, replace(pmt, range_V=_span(pmt, hv)), hv, n, seed,
                       segments=segments)


def simulate_spe_runs(outdir: str | os.PathLike, pmts, hv: int | dict = 1300,
                      n: int = 20000, mu: float | dict = 1.5, seed: int = 1,
                      base_url: str | None = None, segments: int = 1000,
                      ledoff: bool = False, as_is: bool = False,
                      levels: tuple[float, ...] = ()) -> Path:
    """One low-light run per PMT (Saldanha et al. 2017: occupancy ~1-2 per flash), in
    sequence files of ``segments`` flashes: ``outdir/<folder>/spe_<hv>/Autosave/``, listed
    in ``outdir/data_info/spe_pmt_<i>.txt``; with ``ledoff`` an LED-off run of each in
    ``<folder>/ledoff_<hv>/Autosave/`` and ``ledoff_pmt_<i>.txt``; truth in
    ``outdir/truth/spe_summary.csv``. ``hv`` and ``mu`` may be dicts by PMT; ``as_is``:
    the PMTs are already :func:`spe_pmt`'s (``mu`` is then theirs); ``levels``: the same
    run again at these occupancies (``<folder>/spe_<hv>_L<j>/``, the line's ``levels=``)."""
    out = Path(outdir)
    (out / "data_info").mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    rows = []

    def url_of(rel):
        return (base_url.rstrip("/") + "/" + rel) if base_url else \
            str((out / rel).resolve()) + "/"

    for p in pmts:
        v = hv.get(p.pmt, 1300) if isinstance(hv, dict) else hv
        m = mu.get(p.pmt, 1.5) if isinstance(mu, dict) else mu
        sp = p if as_is else spe_pmt(p, m)
        rel = f"{p.folder}/spe_{v}/Autosave/"
        truth = write_spe_run(out / rel, sp, v, n, seed + 7919, segments=segments)
        n_files = len(set(truth["file"].tolist()))
        more = []
        for j, m_j in enumerate(levels, start=2):
            rel_j = f"{p.folder}/spe_{v}_L{j}/Autosave/"
            write_spe_run(out / rel_j, replace(sp, mu_pe=m_j), v, n, seed + 7919 * j,
                          segments=segments)
            more.append(url_of(rel_j))
        opt = f" levels={','.join(more)}" if more else ""
        (out / "data_info" / f"spe_pmt_{p.pmt}.txt").write_text(
            f"# low-light run of PMT {p.pmt}: <dir_url> <pmt> <hv> <n_files>\n"
            f"{url_of(rel)} {p.pmt} {v} {n_files}{opt}\n")
        if ledoff:
            rel_off = f"{p.folder}/ledoff_{v}/Autosave/"
            t_off = write_ledoff(out / rel_off, sp, v, n, seed + 104729, segments=segments)
            (out / "data_info" / f"ledoff_pmt_{p.pmt}.txt").write_text(
                f"# LED-off run of PMT {p.pmt}: <dir_url> <pmt> <hv> <n_files>\n"
                f"{url_of(rel_off)} {p.pmt} {v} {len(set(t_off['file'].tolist()))}\n")
        rows.append([p.pmt, v, n, sp.mu_pe, f"{p.gain(v) * sp.spe_mean:.6g}", sp.spe_enf,
                     f"{truth['record_charge_scale']:.9g}", int(ledoff)])
    with open(out / "truth" / "spe_summary.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(SPE_TRUTH_COLUMNS)
        w.writerows(rows)
    return out


_P1 = DEMO_PMTS[0]  # at 1300 V: gain 5.0e6, single photoelectron peak 4.7 mV


def _caen_like(ratio: float, **kw) -> SimPMT:
    """A CAEN V1730-like low-light run (as real CAEN recordings are): 2 ns, 250 samples, the trigger
    at sample 100, a log-normal pulse of FWHM ~10 ns with a 5 % slow tail arriving at
    sample 140, the LED driver's pickup (-0.05 then +0.08 mV) 15-35 samples after the
    trigger, a +-0.02 mV ripple at 25 MHz, 16 bit."""
    p = spe_pmt(_P1, 1.5, dt_ns=2.0, n_samples=250, record_onset_ns=280.0,
                shape="lognormal", ln_tau_ns=9.0, ln_sigma=0.45, slow_fraction=0.05,
                slow_tau_ns=25.0, jitter_ns=1.0, bits=16, ripple_V=0.02e-3,
                ripple_mhz=25.0, ripple_phase_rad=1.0, pickup_V=0.05e-3,
                pickup_ns=240.0, pickup_width_ns=6.0, **kw)
    return with_spe_snr(p, 1300, ratio)


#: name -> (the PMT as its low-light run records it, HV, flashes, with an LED-off run)
SPE_REGIMES: dict[str, tuple[SimPMT, int, int, bool]] = {
    **{f"spe-{r:g}x": (with_spe_snr(spe_pmt(_P1, 1.5), 1300, r), 1300, 10000, False)
       for r in (20.0, 14.0, 8.0, 5.0, 3.0, 1.5)},
    # pickup where the pedestal window would go, and a coherent ripple (2.4 periods
    # before the pulse: 100 ns of record at 0.1 ns)
    "spe-pickup-ripple": (with_spe_snr(spe_pmt(_P1, 1.5, pickup_V=0.3e-3, pickup_ns=70.0,
                                               ripple_V=0.05e-3, ripple_mhz=24.0,
                                               n_samples=1400, record_onset_ns=100.0),
                                       1300, 10.0), 1300, 10000, False),
    # the pickup inside the LED window, just before the pulse: only an LED-off run can
    # tell it from light
    "spe-pickup-ledoff": (with_spe_snr(spe_pmt(_P1, 1.5, pickup_V=0.3e-3, pickup_ns=32.0,
                                               pickup_width_ns=1.0), 1300, 10.0),
                          1300, 10000, True),
    "spe-caen-like": (_caen_like(14.0), 1300, 6000, False),
    "spe-caen-ledoff": (_caen_like(8.0), 1300, 6000, True),
}
