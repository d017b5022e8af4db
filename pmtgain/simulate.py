"""Simulated campaigns whose true charges are known (the demo campaign and the test data).

What to use when
----------------
- :class:`SimPMT` - one PMT: gain law, photostatistics, pulse shape, noise, ADC.
- :func:`simulate_point` - the waveforms (volts) of one (PMT, HV) point and their truth.
- :func:`write_point` - the same written as ``.trc`` files in the GIN layout.
- :func:`simulate_campaign` - a whole campaign: files, ``data_info`` and truth tables.
- :data:`DEMO_PMTS` - four PMTs resembling GIN's (two of them low-gain and noisier).

The physics, per flash (Bellamy et al., NIM A 339 (1994) 468 for the photostatistics):

- number of photoelectrons ``n ~ Poisson(mu)``;
- each photoelectron's charge ``~ Gamma(mean 1, variance F - 1)`` in units of ``G*e``, so
  that the excess noise factor is ``F = 1 + (sigma_1/Q_1)^2``; the sum of ``n`` of them
  is ``Gamma(n/(F-1), F-1)``;
- gain law ``G(V) = G0 * (V/V0)^k`` (a dynode chain: Hamamatsu PMT handbook, sec. 2.3);
- the pulse: the original's two-exponential model with amplitude ``a = Q*R/(tau - tau_s)``
  (so its full integral over R is ``Q``), onset ``onset_ns + N(0, jitter_ns)``;
- a baseline offset, white Gaussian noise, and the oscilloscope's ADC (8 or 16 bit,
  rounding and clipping at its range).

Knobs for what real setups produce (all on :class:`SimPMT`, defaults = the demo): sampling
``dt_ns`` (0.1-0.4 ns) and ``n_samples`` (250-2000), where the pulse sits in the record
(``record_onset_ns``), rise/fall per PMT, ``mu_pe`` from 1 (37 % empty flashes) to 100,
slow baseline wander (``wander_V``: a sinusoid of random phase and a period of
``wander_period_ns`` ± 50 % per flash), dark pulses (``dark_prob``: one single
photoelectron at a uniformly random time in the record) and afterpulses (``afterpulse_prob``
per photoelectron, 1 photoelectron each, ``afterpulse_delay_ns`` after the onset, uniform),
8- or 16-bit files, the scope's range (``range_factor`` x the mean peak: below ~1.5 the
largest pulses clip at high HV), and the cut column at ``cut_fraction`` of the mean peak.

The true charge of a flash is its LED pulse's full integral ``Q`` (negative, as reported):
dark pulses and afterpulses are not part of it.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .campaign import write_enf
from .config import E_CHARGE_C, PC_PER_C, R_TERMINATION_OHM
from .pulse import pulse
from .trcwrite import write_trc

N_SAMPLES = 502
DT_NS = 0.1
SCOPE_NOISE_LSB = 0.5  # oscilloscope front-end noise, in ADC steps rms
T0_NS = 27.5  # time of sample 0 of the demo's records (onset 47.5 ns, 20 ns in)


@dataclass(frozen=True)
class SimPMT:
    pmt: int
    folder: str
    gain_v0: float  # gain at v0
    k: float  # gain exponent
    v0: float = 1000.0
    mu_pe: float = 40.0
    enf: float = 1.2  # excess noise factor F = 1 + (sigma_1/Q_1)^2
    tau_s_ns: float = 0.93
    tau_ns: float = 3.5
    onset_ns: float = 47.5
    jitter_ns: float = 0.2
    noise_V: float = 1.0e-3
    baseline_V: float = 0.4e-3
    bits: int = 8
    hv_values: tuple[int, ...] = (700, 800, 900, 1000, 1100, 1200, 1300, 1400)
    dt_ns: float = DT_NS
    n_samples: int = N_SAMPLES
    record_onset_ns: float = 20.0  # the mean onset, from the record's start
    wander_V: float = 0.0
    wander_period_ns: float = 1000.0
    dark_prob: float = 0.0
    afterpulse_prob: float = 0.0
    afterpulse_delay_ns: tuple[float, float] = (10.0, 40.0)
    range_factor: float = 3.0
    range_V: float | None = None  # a fixed scope range (full span) instead of range_factor
    cut_fraction: float = 0.4

    @property
    def t0_ns(self) -> float:
        """Time of sample 0 (the onset stays at ``onset_ns``, the record moves)."""
        return self.onset_ns - self.record_onset_ns

    def gain(self, hv: float) -> float:
        return self.gain_v0 * (hv / self.v0) ** self.k

    def mean_charge_pC(self, hv: float) -> float:
        """Expected mean charge (negative) of all flashes at ``hv``."""
        return -self.mu_pe * self.gain(hv) * E_CHARGE_C * PC_PER_C

    def mean_peak_V(self, hv: float) -> float:
        """Expected mean pulse minimum (negative, baseline subtracted)."""
        q = self.mean_charge_pC(hv) / PC_PER_C
        a = q * R_TERMINATION_OHM / ((self.tau_ns - self.tau_s_ns) * 1e-9)
        x = np.log(self.tau_ns / self.tau_s_ns) * self.tau_ns * self.tau_s_ns / (
            self.tau_ns - self.tau_s_ns)
        return float(pulse(x, a, 0.0, self.tau_s_ns, self.tau_ns))

    def cut_V(self, hv: float) -> float:
        """A cut like the original's: ``cut_fraction`` (40 %) of the expected mean peak,
        below the baseline."""
        return round(self.baseline_V + self.cut_fraction * self.mean_peak_V(hv), 7)

    def single_pe_peak_V(self, hv: float) -> float:
        """Peak (negative) of a one-photoelectron pulse."""
        return self.mean_peak_V(hv) / self.mu_pe


# Four PMTs like GIN's (peaks from the original's cuts): 1 and 3 high gain, 2 and 4 low
# gain and noisier. Mean peaks range from ~4 mV (PMT 2, 700 V) to ~0.5 V (PMT 3, 1400 V).
DEMO_PMTS = (
    SimPMT(1, "PMT_1_2", gain_v0=1.15e6, k=5.6, noise_V=1.0e-3),
    SimPMT(2, "PMT_2_2", gain_v0=0.40e6, k=5.2, noise_V=1.6e-3, enf=1.25, tau_s_ns=0.95),
    SimPMT(3, "PMT_3_2", gain_v0=1.40e6, k=5.5, noise_V=1.0e-3, tau_ns=3.4),
    SimPMT(4, "PMT_3_881_2", gain_v0=0.38e6, k=4.7, noise_V=1.6e-3, enf=1.3, tau_ns=3.6),
)


def demo_pmt(pmt: int) -> SimPMT:
    for p in DEMO_PMTS:
        if p.pmt == pmt:
            return p
    return replace(DEMO_PMTS[0], pmt=pmt, folder=f"PMT_{pmt}")


def _rng(seed: int, pmt: int, hv: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, pmt, hv]))


def scope_range(pmt: SimPMT, hv: float) -> tuple[float, float]:
    """(vertical_gain, vertical_offset) of an oscilloscope set up for this point: a range
    of about 3x the mean peak (at least 40 noise rms), 75 % of it below zero."""
    levels = 2 ** pmt.bits
    span = pmt.range_V or max(pmt.range_factor * abs(pmt.mean_peak_V(hv)), 40.0 * pmt.noise_V)
    gain = span / levels
    # raw codes run from -levels/2 to levels/2-1; shift so that 75 % lie below zero
    offset = 0.25 * span  # volts = gain*raw - offset spans [-0.75, +0.25] x span
    # the file stores both as float32: use exactly what a reader will see
    return float(np.float32(gain)), float(np.float32(offset))


def simulate_point(pmt: SimPMT, hv: int, n: int, seed: int = 1):
    """Simulate ``n`` flashes. Returns ``(volts, truth)`` where ``volts`` is (n, N) after
    the ADC (quantised and clipped) and ``truth`` a dict of per-flash arrays: ``n_pe``,
    ``q_true_pC`` (the LED pulse's charge), ``onset_ns``, ``a_V``, ``n_dark`` and
    ``n_after`` (extra pulses in the record)."""
    rng = _rng(seed, pmt.pmt, hv)
    n_pe = rng.poisson(pmt.mu_pe, size=n)
    shape = n_pe / (pmt.enf - 1.0)
    x = np.where(n_pe > 0, rng.gamma(np.maximum(shape, 1e-12), pmt.enf - 1.0), 0.0)
    unit = pmt.gain(hv) * E_CHARGE_C * R_TERMINATION_OHM / ((pmt.tau_ns - pmt.tau_s_ns) * 1e-9)
    a_V = -x * unit
    onset = pmt.onset_ns + pmt.jitter_ns * rng.standard_normal(n)
    N = pmt.n_samples
    t = pmt.t0_ns + np.arange(N) * pmt.dt_ns
    v = pulse(t[None, :], a_V[:, None], onset[:, None], pmt.tau_s_ns, pmt.tau_ns)
    # dark pulses (uniform in the record) and afterpulses (after the onset): one
    # photoelectron each, with the single-photoelectron spread
    n_dark = (rng.random(n) < pmt.dark_prob).astype(int)
    n_after = rng.binomial(n_pe, min(pmt.afterpulse_prob, 1.0)) if pmt.afterpulse_prob else \
        np.zeros(n, int)
    for i in np.nonzero(n_dark + n_after)[0]:
        times = list(rng.uniform(t[0], t[-1], n_dark[i]))
        times += list(onset[i] + rng.uniform(*pmt.afterpulse_delay_ns, n_after[i]))
        amp = rng.gamma(1.0 / (pmt.enf - 1.0), pmt.enf - 1.0, len(times)) * unit
        for tt, a in zip(times, amp, strict=True):
            v[i] += pulse(t, -a, tt, pmt.tau_s_ns, pmt.tau_ns)
    gain, offset = scope_range(pmt, hv)
    # PMT/amplifier noise plus the oscilloscope's own front-end noise, half an ADC step
    # rms (what dithers a real 8-bit scope's quantisation)
    noise = np.hypot(pmt.noise_V, SCOPE_NOISE_LSB * gain)
    v += pmt.baseline_V + noise * rng.standard_normal((n, N))
    if pmt.wander_V:
        period = pmt.wander_period_ns * rng.uniform(0.5, 1.5, n)
        phase = rng.uniform(0, 2 * np.pi, n)
        v += pmt.wander_V * np.sin(2 * np.pi * t[None, :] / period[:, None] + phase[:, None])
    lo, hi = -(2 ** (pmt.bits - 1)), 2 ** (pmt.bits - 1) - 1
    raw = np.clip(np.rint((v + offset) / gain), lo, hi)
    volts = gain * raw - offset
    truth = dict(n_pe=n_pe, q_true_pC=-x * pmt.gain(hv) * E_CHARGE_C * PC_PER_C,
                 onset_ns=onset, a_V=a_V, n_dark=n_dark, n_after=n_after)
    return volts, truth


def file_name(i: int) -> str:
    return f"C1--n16deg--{i:05d}.trc"


def write_point(directory: str | os.PathLike, pmt: SimPMT, hv: int, n: int, seed: int = 1,
                little_endian: bool = True, segments: int = 1) -> dict:
    """Write ``n`` simulated flashes of one point into ``directory``; return the truth.

    ``segments`` > 1 writes sequence-mode files of that many flashes each (the last one
    shorter): ``ceil(n / segments)`` files, each segment with its trigger time (flashes 1 ms
    apart) and offset. The truth then has ``file`` and ``segment`` per flash."""
    volts, truth = simulate_point(pmt, hv, n, seed)
    gain, offset = scope_range(pmt, hv)
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    kw = dict(dt_s=pmt.dt_ns * 1e-9, t0_s=pmt.t0_ns * 1e-9, bits=pmt.bits,
              little_endian=little_endian, vertical_gain=gain, vertical_offset=offset)
    if segments <= 1:
        for i in range(n):
            write_trc(d / file_name(i), volts[i], **kw)
        truth["file"] = np.array([file_name(i) for i in range(n)])
        truth["segment"] = np.zeros(n, int)
        return truth
    files, segs = [], []
    for f, start in enumerate(range(0, n, segments)):
        v = volts[start:start + segments]
        m = v.shape[0]
        write_trc(d / file_name(f), v, trigger_times=1e-3 * (start + np.arange(m)),
                  trigger_offsets=np.full(m, pmt.t0_ns * 1e-9), **kw)
        files += [file_name(f)] * m
        segs += list(range(m))
    truth["file"], truth["segment"] = np.array(files), np.array(segs)
    return truth


TRUTH_COLUMNS = ("pmt", "hv", "n_files", "gain", "mu_pe", "enf", "true_mean_charge_pC",
                 "true_std_charge_pC", "expected_mean_charge_pC", "tau_s_ns", "tau_ns",
                 "noise_V")


def simulate_campaign(
    outdir: str | os.PathLike,
    pmts: tuple[SimPMT, ...] | list[SimPMT] = DEMO_PMTS,
    hv: list[int] | None = None,
    n: int | dict = 200,
    seed: int = 1,
    base_url: str | None = None,
    progress: bool = False,
    segments: int = 1,
) -> Path:
    """Write a campaign in the GIN layout under ``outdir``.

    - ``outdir/<folder>/<hv>/Autosave/C1--n16deg--NNNNN.trc``
    - ``outdir/data_info/data_directories_pmt_<i>.txt``: ``<dir_url> <pmt> <hv> <n_files>
      <cut_V>``, where ``dir_url`` is ``base_url`` + the relative directory (default: the
      directory's absolute path);
    - ``outdir/data_info/enf.txt``: each PMT's true excess noise factor (``<pmt> <F>``);
    - ``outdir/truth/pmt_<i>_<hv>V.csv`` per waveform (file, n_pe, q_true_pC, onset_ns)
      and ``outdir/truth/summary.csv`` per point (true mean and std of the charge, gain,
      mean photoelectrons).

    ``n`` is the number of files per point, or a dict ``{(pmt, hv): n}`` with a default
    under key ``None``; with ``segments`` > 1 it counts flashes, written as sequence-mode
    files of ``segments`` flashes each (the campaign's ``n_files`` counts files). Returns
    ``outdir``.
    """
    out = Path(outdir)
    (out / "data_info").mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    rows = []
    jobs = [(p, v) for p in pmts for v in (hv or p.hv_values)]
    it = jobs
    if progress:
        from tqdm import tqdm

        it = tqdm(jobs, desc="simulating points", unit="point", disable=None)
    lines: dict[int, list[str]] = {}
    for p, v in it:
        n_pt = n.get((p.pmt, v), n.get(None, 200)) if isinstance(n, dict) else n
        rel = f"{p.folder}/{v}/Autosave/"
        truth = write_point(out / rel, p, v, n_pt, seed, segments=segments)
        with open(out / "truth" / f"pmt_{p.pmt}_{v}V.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["file", "segment", "n_pe", "q_true_pC", "onset_ns"])
            for i in range(n_pt):
                w.writerow([truth["file"][i], int(truth["segment"][i]), int(truth["n_pe"][i]),
                            f"{truth['q_true_pC'][i]:.9g}", f"{truth['onset_ns'][i]:.6f}"])
        q = truth["q_true_pC"]
        rows.append([p.pmt, v, n_pt, f"{p.gain(v):.6g}", p.mu_pe, p.enf, f"{q.mean():.9g}",
                     f"{q.std(ddof=1):.9g}", f"{p.mean_charge_pC(v):.9g}", p.tau_s_ns,
                     p.tau_ns, p.noise_V])
        url = (base_url.rstrip("/") + "/" + rel) if base_url else str((out / rel).resolve()) + "/"
        n_files = len(set(truth["file"].tolist()))
        lines.setdefault(p.pmt, []).append(f"{url} {p.pmt} {v} {n_files} {p.cut_V(v):.7g}")
    for pmt_id, ls in lines.items():
        (out / "data_info" / f"data_directories_pmt_{pmt_id}.txt").write_text("\n".join(ls) + "\n")
    # each PMT's excess noise factor, as a lab would have it from single-pe spectra
    write_enf(out / "data_info", {p.pmt: p.enf for p in pmts}, "the simulated truth")
    with open(out / "truth" / "summary.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(TRUTH_COLUMNS)
        w.writerows(rows)
    return out


def _with(pmts, **kw):
    return tuple(replace(p, **{k: (v[i] if isinstance(v, list) else v) for k, v in kw.items()})
                 for i, p in enumerate(pmts))


#: Campaigns that real setups produce, beyond the demo's defaults: name -> (PMTs, cut?).
#: Each is checked against its truth by ``tests/test_regimes.py`` and ``bench/regimes.py``.
REGIMES: dict[str, tuple[tuple[SimPMT, ...], bool]] = {
    # pulses 2-6x the noise rms at 700-800 V, no cut column
    "low-signal": (_with(DEMO_PMTS, noise_V=[1.6e-3, 2.4e-3, 1.6e-3, 2.4e-3]), False),
    # a physicist's cut at ~80 % of the mean peak ("dropping noise")
    "cut-80": (_with(DEMO_PMTS, cut_fraction=0.8), True),
    # 3 photoelectrons per flash (5 % empty), one PMT at 1
    # (the scope's range set for the largest flashes, as one would)
    "low-light": (_with(DEMO_PMTS, mu_pe=[3.0, 3.0, 1.0, 3.0],
                        gain_v0=[4e6, 2e6, 6e6, 2e6], range_factor=[8.0, 8.0, 14.0, 8.0]),
                  True),
    # slower pulse shapes per PMT, 1002 samples
    "slow-pulses": (_with(DEMO_PMTS, tau_s_ns=[0.7, 1.2, 1.8, 2.0],
                          tau_ns=[2.5, 5.0, 8.0, 10.0], n_samples=1002,
                          record_onset_ns=[20.0, 20.0, 25.0, 15.0]), False),
    # slow baseline wander, dark pulses and afterpulses at random times
    "wander-dark": (_with(DEMO_PMTS, wander_V=0.5e-3, dark_prob=0.05,
                          afterpulse_prob=0.002), True),
    # 16-bit files, other sampling and record lengths, the pulse anywhere in the record
    "sampling": (_with(DEMO_PMTS, bits=[16, 8, 16, 8], dt_ns=[0.2, 0.4, 0.1, 0.2],
                       n_samples=[250, 250, 2000, 1000],
                       record_onset_ns=[8.0, 70.0, 150.0, 3.0]), False),
    # one scope range (0.4 V span) for every HV: the largest pulses clip at high HV
    "clipping": (_with(DEMO_PMTS, range_V=0.4), True),
    # pulses from ~1 to ~500 times the noise
    "dynamic-range": (_with(DEMO_PMTS, noise_V=[0.2e-3, 4.0e-3, 0.25e-3, 3.0e-3],
                            bits=16), False),
}


def spe_pmt(pmt: SimPMT, mu: float) -> SimPMT:
    """The PMT in a low-light run: ``mu`` photoelectrons per flash, a record long enough
    for a pedestal window before the LED window, a scope range for single photoelectrons."""
    return replace(pmt, mu_pe=mu, n_samples=700, record_onset_ns=35.0,
                   range_factor=max(15.0, 12.0 * 3.0 / mu))


SPE_TRUTH_COLUMNS = ("pmt", "hv", "n_flashes", "mu_pe", "gain", "enf")


def simulate_spe_runs(outdir: str | os.PathLike, pmts, hv: int | dict = 1300,
                      n: int = 20000, mu: float | dict = 1.5, seed: int = 1,
                      base_url: str | None = None, segments: int = 1000) -> Path:
    """One low-light run per PMT (Saldanha et al. 2017: occupancy ~1-2 per flash), in
    sequence files of ``segments`` flashes: ``outdir/<folder>/spe_<hv>/Autosave/``, listed
    in ``outdir/data_info/spe_pmt_<i>.txt``; truth in ``outdir/truth/spe_summary.csv``.
    ``hv`` and ``mu`` may be dicts by PMT."""
    out = Path(outdir)
    (out / "data_info").mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    rows = []
    for p in pmts:
        v = hv.get(p.pmt, 1300) if isinstance(hv, dict) else hv
        m = mu.get(p.pmt, 1.5) if isinstance(mu, dict) else mu
        rel = f"{p.folder}/spe_{v}/Autosave/"
        truth = write_point(out / rel, spe_pmt(p, m), v, n, seed + 7919, segments=segments)
        url = (base_url.rstrip("/") + "/" + rel) if base_url else str((out / rel).resolve()) + "/"
        n_files = len(set(truth["file"].tolist()))
        (out / "data_info" / f"spe_pmt_{p.pmt}.txt").write_text(
            f"# low-light run of PMT {p.pmt}: <dir_url> <pmt> <hv> <n_files>\n"
            f"{url} {p.pmt} {v} {n_files}\n")
        rows.append([p.pmt, v, n, m, f"{p.gain(v):.6g}", p.enf])
    with open(out / "truth" / "spe_summary.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(SPE_TRUTH_COLUMNS)
        w.writerows(rows)
    return out
