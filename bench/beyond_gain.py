"""Truth against what was recovered, for what the flashes measure besides the gain.

    .venv/bin/python -m bench.beyond_gain [--n-spe 10000]

One simulated case per measurement and regime (the same ones as the tests:
``tests/point/test_stability.py``, ``test_darkrate.py``, ``test_darkrun.py``,
``test_afterpulse.py``, ``test_longrun.py``, ``test_timing.py``, ``test_spefit.py``,
``test_spe.py``), one line each: the truth, the value recovered with
its error, and the pull. About half a minute on two cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import gamma

from pmtgain.point.afterpulse import afterpulse_probability, delay_groups
from pmtgain.point.darkrate import pe_rates, rate_curve
from pmtgain.point.darkrun import DarkSettings, process_dark
from pmtgain.point.longrun import process_long, with_long_runs
from pmtgain.point.process import process_point
from pmtgain.point.spe import process_spe
from pmtgain.sim.simdark import dark_pmt, expected_rate, long_pmt, single_pe_peak, write_dark_run
from pmtgain.sim.simspe import spe_pmt, with_spe_snr, write_spe_run
from pmtgain.sim.simulate import DEMO_PMTS, write_point

P1 = DEMO_PMTS[0]


def _line(what: str, regime: str, truth: float, got: float, err: float) -> str:
    pull = (got - truth) / err if err and np.isfinite(err) else float("nan")
    return f"{what:<34} {regime:<40} {truth:>11.4g} {got:>11.4g} {err:>9.2g} {pull:>+6.1f}"


def _point(d: Path, p, hv, n, seed=3, segments=1):
    truth = write_point(d, p, hv, n, seed=seed, segments=segments)
    return process_point(sorted(d.glob("*.trc")), pmt=p.pmt, hv=hv).summary, truth


def stability(tmp: Path) -> list[str]:
    out = []
    for drift in (0.0, 0.3):
        p = dataclasses.replace(P1, flash_period_s=1.0, led_drift=drift, led_drift_tau_s=200.)
        s, t = _point(tmp / f"drift{drift}", p, 1000, 800)
        mu = np.array([t["mu_pe"][k].mean() for k in np.array_split(np.arange(800), 10)])
        out.append(_line("drift first-to-last block", f"LED -{100 * drift:.0f}%, tau 200 s, "
                         f"flag={'yes' if s['drift_flag'] else 'no'}", mu[-1] / mu[0] - 1,
                         s["drift_first_last"], s["drift_first_last_err"]))
    return out


def dark(tmp: Path) -> list[str]:
    out = []
    for dt, ns, bits, rng_v, rate in ((0.4, 5000, 16, 0.1, 1e6), (1.0, 2000, 8, 0.04, 3e5)):
        p = dataclasses.replace(P1, mu_pe=1.5, noise_V=0.25e-3, bits=bits, range_V=rng_v,
                                dt_ns=dt, n_samples=ns, record_onset_ns=0.9 * ns * dt,
                                dark_rate_hz=rate)
        s, _ = _point(tmp / f"dark{dt}", p, 1300, 1000, segments=100)
        c = rate_curve(s, spe_amplitude_V=abs(p.single_pe_peak_V(1300)))
        r = pe_rates(c)
        want = rate * gamma.sf(0.25, 1 / (p.enf - 1), scale=p.enf - 1)
        out.append(_line("dark rate at 0.25 pe (Hz)", f"{dt} ns, {bits} bit, "
                         f"{ns * dt / 1e3:.1f} us records", want, r["dark_rate_0p25pe_hz"],
                         r["dark_rate_0p25pe_err_hz"]))
    return out


def dark_runs(tmp: Path) -> list[str]:
    """Dark runs (their own kind): log-normal pulses, random and self triggered."""
    out = []
    for trig, rate, dt, bits, n in (("random", 50e3, 1.0, 8, 600), ("self", 50e3, 1.0, 8, 600),
                                    ("random", 1e6, 0.4, 16, 300)):
        p = dark_pmt(P1, rate, trigger=trig, dt_ns=dt, bits=bits, shape="lognormal",
                     ln_tau_ns=4.0, ln_sigma=0.4)
        amp = single_pe_peak(p, 1300)
        p = dataclasses.replace(p, noise_V=amp / 20)
        d = tmp / f"darkrun{trig}{dt}"
        write_dark_run(d, p, 1300, n, seed=4)
        s = process_dark(sorted(d.glob("*.trc")), pmt=1, hv=1300,
                         settings=DarkSettings(trigger=trig)).summary
        r = pe_rates(rate_curve(s, spe_amplitude_V=amp))
        for x, f in (("0p25", 0.25), ("0p5", 0.5)):
            if np.isfinite(r[f"dark_rate_{x}pe_hz"]):
                out.append(_line(f"dark run: rate at {f:g} pe (Hz)", f"{trig}, {dt} ns, "
                                 f"{bits} bit, {rate:.0e} Hz, log-normal",
                                 expected_rate(p, 1300, f * amp), r[f"dark_rate_{x}pe_hz"],
                                 r[f"dark_rate_{x}pe_err_hz"]))
        if trig == "self":
            out.append(_line("  triggers' rate beyond dead time", "self, 20 us dead", rate,
                             s["dark_trigger_rate_hz"], s["dark_trigger_rate_err_hz"]))
    return out


def long_runs(tmp: Path) -> list[str]:
    """A long-record run: mu from the anchored gain, dark counts from a dark run."""
    groups = ((0.01, 300.0, 30.0), (0.02, 1000.0, 100.0))
    base = dataclasses.replace(P1, noise_V=0.25e-3, bits=16, dt_ns=0.4)
    p = long_pmt(dataclasses.replace(base, dark_rate_hz=5e4), groups, after_ns=2400.0)
    write_point(tmp / "lr", p, 1300, 1000, seed=3, segments=100)
    s, _ = process_long(sorted((tmp / "lr").glob("*.trc")), pmt=1, hv=1300)
    dp = dataclasses.replace(dark_pmt(base, 5e4, record_ns=5000.0), noise_V=0.25e-3)
    write_dark_run(tmp / "lrdark", dp, 1300, 300, seed=4)
    dark = pd.DataFrame([process_dark(sorted((tmp / "lrdark").glob("*.trc")), pmt=1,
                                      hv=1300).summary])
    points = pd.DataFrame(dict(pmt=[1, 1], hv=[1200, 1400],
                               gain_anchored=[p.gain(1200), p.gain(1400)]))
    r = with_long_runs(pd.DataFrame([s]), points, dark_runs=dark).iloc[0]
    return [_line("long-record run: mu (anchored)", "20 pe, window over afterpulses", 20.0,
                  r.n_pe_anchored, float("nan")),
            _line("  afterpulses per photoelectron", "2 groups, 50 kHz, dark run", 0.03,
                  r.afterpulse_prob, r.afterpulse_prob_err)]


def afterpulses(tmp: Path) -> list[str]:
    groups = ((0.01, 300.0, 30.0), (0.02, 1000.0, 100.0))
    p = dataclasses.replace(P1, mu_pe=20, noise_V=0.25e-3, bits=16, dt_ns=0.4,
                            n_samples=6250, record_onset_ns=500.0, dark_rate_hz=5e4,
                            afterpulse_groups=groups)
    s, _ = _point(tmp / "ap", p, 1300, 1000, segments=100)
    r = afterpulse_probability(pd.DataFrame([s]).assign(n_pe_anchored=p.mu_pe)).iloc[0]
    out = [_line("afterpulses per photoelectron", "2 groups, 20 pe, 50 kHz dark, 0.4 ns",
                 0.03, r.afterpulse_prob, r.afterpulse_prob_err)]
    for g, (_, d, _w) in zip(delay_groups(s, s["dark_rate_5sigma_hz"]), groups, strict=False):
        out.append(_line("  group's mean delay (ns)", f"group at {d:g} ns", d, g["delay_ns"],
                         g["delay_err_ns"]))
    return out


def spe(tmp: Path, n: int) -> list[str]:
    out = []
    for ratio, spread, dt in ((14, 0.5, 0.1), (8, 0.3, 0.4), (8, 0.6, 1.0)):
        p = with_spe_snr(spe_pmt(P1, 1.5, jitter_ns=spread, dt_ns=dt, n_samples=int(70 / dt)),
                         1300, ratio)
        d = tmp / f"tts{ratio}_{dt}"
        write_spe_run(d, p, 1300, n, seed=3)
        s = process_spe(sorted(d.glob("*.trc")), pmt=1, hv=1300).summary
        out.append(_line("TTS sigma less the noise's (ns)", f"{ratio}x noise, {dt} ns", spread,
                         s["tts_sigma_corrected_ns"], s["tts_sigma_err_ns"]))
    for ratio, mu, under in ((14, 1.5, 0.1), (8, 1.0, 0.15), (3, 1.5, 0.1)):
        p = with_spe_snr(spe_pmt(P1, mu, under_amplified=under, spe_shape="cascade"), 1300,
                         ratio)
        d = tmp / f"fit{ratio}_{under}"
        t = write_spe_run(d, p, 1300, n, seed=4)
        s = process_spe(sorted(d.glob("*.trc")), pmt=1, hv=1300).summary
        g = p.gain(1300) * p.spe_mean * t["record_charge_scale"]
        reg = f"cascade, {100 * under:.0f}% under-ampl., {ratio}x, mu {mu}"
        out.append(_line("fit G (stat + shape sys)", reg, g, s["fit_gain"],
                         float(np.hypot(s["fit_gain_err"], s["fit_gain_sys"]))))
        out.append(_line("  Saldanha G (stat + threshold sys)", reg, g, s["gain"],
                         float(np.hypot(s["gain_err"], s["gain_sys"]))))
        out.append(_line("fit F", reg, p.spe_enf, s["fit_enf"],
                         float(np.hypot(s["fit_enf_err"], s["fit_enf_sys"]))))
        out.append(_line("  Saldanha F", reg, p.spe_enf, s["enf"],
                         float(np.hypot(s["enf_err"], s["enf_sys"]))))
    # three light levels of one run fitted together (levels=)
    p = with_spe_snr(spe_pmt(P1, 1.5, under_amplified=0.1, spe_shape="cascade"), 1300, 8)
    files, truth = [], None
    for j, mu in enumerate((1.5, 0.6, 3.0)):
        d = tmp / f"lv{j}"
        t = write_spe_run(d, dataclasses.replace(p, mu_pe=mu), 1300, n // 2, seed=5 + j)
        truth = truth or t
        files.append(sorted(d.glob("*.trc")))
    s = process_spe(files[0], pmt=1, hv=1300, level_files=files[1:]).summary
    g = p.gain(1300) * p.spe_mean * truth["record_charge_scale"]
    out.append(_line("fit G, 3 light levels together", "cascade, 10% under-ampl., 8x, "
                     "mu 1.5/0.6/3", g, s["fit_gain"],
                     float(np.hypot(s["fit_gain_err"], s["fit_gain_sys"]))))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-spe", type=int, default=10000, help="flashes per low-light run")
    args = ap.parse_args(argv)
    print(f"{'measurement':<34} {'regime':<40} {'truth':>11} {'recovered':>11} {'error':>9} "
          f"{'pull':>6}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for part in (stability(tmp), dark(tmp), dark_runs(tmp), afterpulses(tmp),
                     long_runs(tmp), spe(tmp, args.n_spe)):
            for line in part:
                print(line, flush=True)


if __name__ == "__main__":
    main()
