import csv
from dataclasses import fields, replace

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import minimize_scalar

from pmtgain.config import E_CHARGE_C
from pmtgain.io.flashes import read_many
from pmtgain.sim.regimes import REGIMES
from pmtgain.sim.simulate import (
    DEMO_PMTS,
    DT_NS,
    T0_NS,
    SimPMT,
    scope_range,
    simulate_campaign,
    simulate_point,
    write_point,
)

OLD_REGIMES = ("low-signal", "cut-80", "low-light", "slow-pulses", "wander-dark", "sampling",
               "clipping", "dynamic-range")
NEW_REGIMES = ("lognormal", "two-component", "reflection", "undershoot", "ringing",
               "coarse-slow", "ripple-pickup", "real-like")
NEW_FIELDS = ("shape", "ln_tau_ns", "ln_sigma", "slow_fraction", "slow_tau_ns", "reflection",
              "reflection_delay_ns", "ac_coupling_ns", "ringing", "ringing_mhz",
              "ringing_tau_ns", "ripple_V", "ripple_mhz", "ripple_phase_rad", "pickup_V",
              "pickup_ns", "pickup_width_ns")


def test_files_hold_exactly_the_simulated_volts(tmp_path):
    pmt = DEMO_PMTS[3]
    write_point(tmp_path, pmt, 1000, 50, seed=4)
    v, _ = simulate_point(pmt, 1000, 50, seed=4)
    many = read_many(sorted(tmp_path.glob("*.trc")))
    np.testing.assert_allclose(many.volts, v, rtol=0, atol=1e-9)
    assert many.t0_s[0] == pytest.approx(T0_NS * 1e-9)
    assert many.dt_s == pytest.approx(DT_NS * 1e-9, rel=1e-6)


@pytest.mark.slow
def test_photostatistics_gain_law_and_excess_noise():
    pmt = DEMO_PMTS[0]
    _, t = simulate_point(pmt, 1000, 40000, seed=9)
    q = -t["q_full_pC"] * 1e-12
    ge = pmt.gain(1000) * E_CHARGE_C
    assert t["n_pe"].mean() == pytest.approx(pmt.mu_pe, rel=0.01)
    assert q.mean() == pytest.approx(pmt.mu_pe * ge, rel=0.01)
    # Var Q = mu (G e)^2 F for Poisson photoelectrons (Bellamy et al. 1994)
    assert q.var() == pytest.approx(pmt.mu_pe * ge**2 * pmt.enf, rel=0.03)
    assert pmt.gain(1400) / pmt.gain(700) == pytest.approx(2**pmt.k)
    assert np.std(t["onset_ns"]) == pytest.approx(pmt.jitter_ns, rel=0.03)


# ------------------------------------------------------------------ the defaults, bit for bit
def test_defaults_are_bit_identical_to_the_closed_form():
    """The demo PMT's volts, recomputed here from the two-exponential formula and the same
    random stream (not through the simulator's code), and frozen values from before the
    new knobs existed."""
    pmt, hv, n = DEMO_PMTS[0], 1000, 50
    volts, truth = simulate_point(pmt, hv, n)
    rng = np.random.default_rng(np.random.SeedSequence([1, pmt.pmt, hv]))
    n_pe = rng.poisson(40.0, size=n)
    f1 = 1.2 - 1.0  # F - 1 as the simulator has it (0.19999999999999996)
    x = np.where(n_pe > 0, rng.gamma(np.maximum(n_pe / f1, 1e-12), f1), 0.0)
    onset = 47.5 + 0.2 * rng.standard_normal(n)
    rng.random(n)  # the dark-pulse draw (dark_prob = 0)
    ts, tf, R = 0.93, 3.5, 50.0
    a = -x * (1.15e6 * E_CHARGE_C * R / ((tf - ts) * 1e-9))
    t = 27.5 + np.arange(502) * 0.1
    d = t[None, :] - onset[:, None]
    dp = np.maximum(d, 0.0)
    v = np.where(d >= 0, a[:, None] * (np.exp(-dp / tf) - np.exp(-dp / ts)), 0.0)
    tp = np.log(tf / ts) * tf * ts / (tf - ts)
    peak = -40 * 1.15e6 * E_CHARGE_C * R / ((tf - ts) * 1e-9) * (np.exp(-tp / tf)
                                                                   - np.exp(-tp / ts))
    span = max(3.0 * abs(peak), 40e-3)
    gain, offset = float(np.float32(span / 256)), float(np.float32(0.25 * span))
    assert (gain, offset) == scope_range(pmt, hv)
    v += 0.4e-3 + np.hypot(1e-3, 0.5 * gain) * rng.standard_normal((n, 502))
    expected = gain * np.clip(np.rint((v + offset) / gain), -128, 127) - offset
    np.testing.assert_array_equal(volts, expected)
    # frozen from the simulator before the knobs for other shapes existed
    assert volts[7, 200:206].tolist() == [
        0.0007637756643816829, -0.011456634965725243, -0.02138571860268712,
        -0.029787250910885632, -0.038952558883465827, -0.04277143720537424]
    assert float(volts.sum()) == -177.14936382102314
    assert truth["q_full_pC"][:4].tolist() == [
        -6.335758332282487, -8.037384484480345, -6.252162943258037, -6.5256014284475405]
    np.testing.assert_array_equal(truth["a_V"], a)
    # the record integral of the demo's pulse: its full charge within 1e-3
    np.testing.assert_allclose(truth["q_true_pC"], truth["q_full_pC"], rtol=1e-3)
    assert truth["record_charge_scale"] == pytest.approx(1.0, abs=1e-3)


# ------------------------------------------------------------- the truth, knob by knob
def two_exp(s, ts, tf):
    return (np.exp(-s / tf) - np.exp(-s / ts)) / (tf - ts) if s > 0 else 0.0


def lognormal(s, tl, sg):
    if s <= 0:
        return 0.0
    return np.exp(-np.log(s / tl) ** 2 / (2 * sg**2)) / (tl * sg * np.sqrt(2 * np.pi)
                                                          * np.exp(sg**2 / 2))


def reference_pulse(p: SimPMT):
    """(u, kinks): the unit pulse before the high-pass, written out from the formulas of
    the module docstring, and the times after the onset where it has kinks."""
    fast = ((lambda s: lognormal(s, p.ln_tau_ns, p.ln_sigma)) if p.shape == "lognormal"
            else (lambda s: two_exp(s, p.tau_s_ns, p.tau_ns)))

    def u0(s):
        return (1 - p.slow_fraction) * fast(s) + p.slow_fraction * two_exp(s, p.tau_s_ns,
                                                                           p.slow_tau_ns)
    kinks = [0.0]
    u1 = u0
    if p.ringing:
        s_pk = minimize_scalar(lambda s: -u0(s), bounds=(0.01, 30.0), method="bounded",
                               options=dict(xatol=1e-9)).x
        u_pk = u0(s_pk)
        w = 2 * np.pi * p.ringing_mhz * 1e-3

        def u1(s):
            r = 0.0 if s < s_pk else -p.ringing * u_pk * np.sin(w * (s - s_pk)) * np.exp(
                -(s - s_pk) / p.ringing_tau_ns)
            return u0(s) + r
        kinks.append(s_pk)
    u2 = u1
    if p.reflection:
        def u2(s):
            return u1(s) + p.reflection * u1(s - p.reflection_delay_ns)
        kinks += [k + p.reflection_delay_ns for k in kinks]
    return u2, kinks


def record_integral(p: SimPMT, onset: float) -> float:
    """The record integral (in units of the flash's charge) of the noise-free pulse, by
    quad: the sum over samples is the midpoint rule over [t_0 - dt/2, t_end + dt/2]. A
    high-pass's output integrates to ``int_a^T x(s) exp(-(T - s)/RC) ds`` over [a, T]
    (x = 0 before a; swap the integrals of y = x - low-pass(x))."""
    u, kinks = reference_pulse(p)
    t = p.t0_ns + np.arange(p.n_samples) * p.dt_ns
    lo, hi = t[0] - p.dt_ns / 2 - onset, t[-1] + p.dt_ns / 2 - onset
    pts = [k for k in kinks if lo < k < hi]
    rc = p.ac_coupling_ns
    f = (lambda s: u(s) * np.exp(-(hi - s) / rc)) if rc else u
    return quad(f, max(lo, 0.0), hi, points=pts or None, limit=400, epsabs=1e-10,
                epsrel=1e-9)[0]


BASE = replace(DEMO_PMTS[0], jitter_ns=0.5)
KNOBS = {
    "lognormal": dict(shape="lognormal", ln_tau_ns=4.0, ln_sigma=0.4),
    "slow": dict(slow_fraction=0.2, slow_tau_ns=25.0, n_samples=1002),  # 80 ns: 3 tau
    "reflection": dict(reflection=0.12, reflection_delay_ns=7.3),
    "reflection-late": dict(reflection=-0.15, reflection_delay_ns=27.0),  # cut by the end
    "highpass": dict(ac_coupling_ns=80.0, n_samples=1002),
    "ringing": dict(ringing=0.12, ringing_mhz=250.0, ringing_tau_ns=8.0),
    "everything": dict(shape="lognormal", ln_tau_ns=3.0, ln_sigma=0.3, slow_fraction=0.15,
                       slow_tau_ns=20.0, ringing=0.08, ringing_mhz=300.0, ringing_tau_ns=6.0,
                       reflection=0.1, reflection_delay_ns=5.0, ac_coupling_ns=150.0,
                       n_samples=802, ripple_V=3e-5, pickup_V=6e-5),
}


@pytest.mark.parametrize("knob", list(KNOBS))
def test_truth_is_the_record_integral_of_the_noise_free_pulse(knob):
    p = replace(BASE, **KNOBS[knob])
    _, t = simulate_point(p, 1100, 60, seed=3)
    full = t["q_full_pC"]
    assert full.tolist() == simulate_point(BASE, 1100, 60, seed=3)[1]["q_full_pC"].tolist()
    idx = np.nonzero(full)[0][:5]
    for i in idx:
        ref = record_integral(p, t["onset_ns"][i])
        assert t["q_true_pC"][i] / full[i] == pytest.approx(ref, abs=1e-3), (knob, i)
    assert t["record_charge_scale"] == pytest.approx(t["q_true_pC"].sum() / full.sum(),
                                                     rel=1e-12)
    assert isinstance(t["record_charge_scale"], float)


def test_full_charges_and_record_scales_of_the_knobs():
    """What each knob does to the record: the log-normal and the slow component in a long
    record keep the charge, a reflection adds its share, the high-pass removes some."""
    def scale(**kw):
        return simulate_point(replace(BASE, **kw), 1000, 200, seed=2)[1]["record_charge_scale"]
    assert scale(shape="lognormal") == pytest.approx(1.0, abs=1e-4)
    assert scale(slow_fraction=0.2, slow_tau_ns=10.0, n_samples=1502) == pytest.approx(
        1.0, abs=1e-3)
    assert scale(reflection=0.12, reflection_delay_ns=5.0) == pytest.approx(1.12, abs=1e-3)
    # a pulse far shorter than RC: the record keeps ~exp(-T/RC) of the charge
    assert scale(ac_coupling_ns=300.0, n_samples=1002) == pytest.approx(np.exp(-80 / 300),
                                                                        abs=0.02)


# ------------------------------------------------------------ the electronics' own shapes


def test_old_regimes_use_none_of_the_new_knobs():
    default = {f.name: f.default for f in fields(SimPMT) if f.name in NEW_FIELDS}
    assert set(REGIMES) >= set(OLD_REGIMES) | set(NEW_REGIMES)
    for name in OLD_REGIMES:
        for p in REGIMES[name][0]:
            assert {k: getattr(p, k) for k in default} == default, name
            assert p.analytic


@pytest.mark.parametrize("name", NEW_REGIMES)
def test_new_regimes_differ_per_pmt_and_are_measurable_at_700_V(name):
    pmts, _ = REGIMES[name]
    assert len(pmts) == 4 and len(set(pmts)) == 4
    assert not all(p.analytic and not p.ripple_V for p in pmts)
    visible = 0
    for p in pmts:
        v, t = simulate_point(p, 700, 2000, seed=5)
        m = v.mean(0)
        pre = int(0.4 * p.record_onset_ns / p.dt_ns)
        base = np.median(m[:max(pre, 3)])
        depth = base - m.min()
        visible += depth > 20 * p.noise_V / np.sqrt(2000)
        assert 0.3 < t["record_charge_scale"] < 1.3
    assert visible >= 2, name


def test_real_like_clips_a_few_percent_at_the_highest_hv_on_one_pmt():
    clipped = {}
    for p in REGIMES["real-like"][0]:
        for hv in (1200, 1400):
            v, _ = simulate_point(p, hv, 2000, seed=5)
            gain, offset = scope_range(p, hv)
            clipped[p.pmt, hv] = float(np.mean((v <= -(2 ** (p.bits - 1)) * gain - offset
                                                + 1e-12).any(axis=1)))
    assert 0.01 < clipped[3, 1400] < 0.15
    assert sum(f > 0 for f in clipped.values()) == 1


def test_campaign_truth_carries_the_record_charge_scale(tmp_path):
    p = REGIMES["reflection"][0][0]
    out = simulate_campaign(tmp_path / "c", [p], hv=[1000], n=3, seed=2)
    with open(out / "truth" / "summary.csv") as f:
        row = next(csv.DictReader(f))
    assert float(row["record_charge_scale"]) == pytest.approx(1.1, abs=0.01)
    with open(out / "truth" / f"pmt_{p.pmt}_1000V.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3
    for r in rows:
        assert float(r["q_true_pC"]) / float(r["q_full_pC"]) == pytest.approx(1.1, abs=0.01)
