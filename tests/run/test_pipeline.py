"""The local pipeline end to end: analysis.py, resume, failures, gain_curve.py, the demo."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pmtgain.results.store import read_json_records
from pmtgain.sim.demo import compare_with_truth
from pmtgain.sim.simulate import DEMO_PMTS, simulate_campaign

ROOT = Path(__file__).resolve().parents[2]


def run(script, *args, cwd):
    return subprocess.run([sys.executable, str(ROOT / script), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture
def small_campaign(tmp_path):
    simulate_campaign(tmp_path / "camp", DEMO_PMTS[:2], hv=[900, 1100, 1300], n=60, seed=3)
    return tmp_path


@pytest.mark.slow
def test_analysis_resume_failure_and_gain_curve(small_campaign):
    cwd = small_campaign
    info = cwd / "camp" / "data_info"
    # break one point: its directory is gone
    bad = info / "data_directories_pmt_2.txt"
    lines = bad.read_text().splitlines()
    lines[1] = lines[1].replace("/1100/", "/1150/")
    bad.write_text("\n".join(lines) + "\n")
    r = run("analysis.py", "--data-info", str(info), "--no-progress", "--jobs", "2", cwd=cwd)
    assert r.returncode == 1
    # named once, its directory named once
    assert re.search(r"FAILED PMT 2 at 1100 V: \S+/1150/Autosave: no such directory",
                     r.stderr), r.stderr
    assert "missing: PMT 2 at 1100 V: " in r.stderr
    lst = pd.read_pickle(cwd / "outputs" / "lists" / "pmt_1_data_list.pkl")
    assert list(lst.columns[:3]) == ["mean_charge", "std_dev_charge", "hv"]
    assert list(lst.hv) == [900, 1100, 1300] and (lst.mean_charge < 0).all()
    assert (cwd / "outputs" / "gain_curves.png").stat().st_size > 10_000
    curves = pd.read_csv(cwd / "outputs" / "gain_curves.csv")
    assert set(curves.pmt) == {1, 2}
    assert curves.set_index("pmt").loc[2, "missing_hv"] == 1100
    log = (cwd / "outputs" / "logs" / "pmt_1_900V.log").read_text()
    assert "done: 60 of 60 flashes used" in log
    # fix the point and run again: only it is redone
    bad.write_text("\n".join(lines).replace("/1150/", "/1100/") + "\n")
    before = (cwd / "outputs/lists/points/pmt_1_900_summary.json").stat().st_mtime_ns
    r = run("analysis.py", "--data-info", str(info), "--no-progress", cwd=cwd)
    assert r.returncode == 0, r.stderr
    assert "6 points done (5 from an earlier run), 0 failed" in r.stdout
    assert (cwd / "outputs/lists/points/pmt_1_900_summary.json").stat().st_mtime_ns == before
    # a cut changed in the campaign, or a point saved by an older analysis: redone
    p1 = info / "data_directories_pmt_1.txt"
    l1 = p1.read_text().splitlines()
    url, pmt, hv, n, cut = l1[0].split()
    p1.write_text("\n".join([f"{url} {pmt} {hv} {n} {float(cut) * 1.5:.7g}", *l1[1:]]) + "\n")
    summ = cwd / "outputs/lists/points/pmt_1_1300_summary.json"
    js = json.loads(summ.read_text())
    js["analysis_version"] = 1
    summ.write_text(json.dumps(js))
    r = run("analysis.py", "--data-info", str(info), "--no-progress", cwd=cwd)
    assert r.returncode == 0, r.stderr
    assert "redoing 1 point(s) saved earlier: the cut changed in the campaign" in r.stdout
    assert "redoing 1 point(s) saved earlier: an older version of the analysis" in r.stdout
    assert "6 points done (4 from an earlier run), 0 failed" in r.stdout
    lst = pd.read_pickle(cwd / "outputs" / "lists" / "pmt_1_data_list.pkl").set_index("hv")
    assert lst.cut_V[900] == pytest.approx(float(cut) * 1.5)
    r = run("gain_curve.py", "--target", "5", cwd=cwd)
    assert r.returncode == 0, r.stderr
    curves = pd.read_csv(cwd / "outputs" / "gain_curves.csv")
    assert (curves.hv_for_target > 900).all() and (curves.hv_for_target < 1300).all()
    # the fitted exponent is the simulated one
    b = curves.set_index("pmt").b
    assert b[1] == pytest.approx(DEMO_PMTS[0].k, abs=0.3)


def test_bad_campaign_line_is_one_line_error(tmp_path):
    d = tmp_path / "info"
    d.mkdir()
    (d / "data_directories_pmt_1.txt").write_text("https://x/ 1 nine 10\n")
    r = run("analysis.py", "--data-info", str(d), cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "data_directories_pmt_1.txt:1" in r.stderr and "Traceback" not in r.stderr


def test_bad_enf_is_one_line_error(tmp_path):
    cwd = tmp_path
    r = run("gain_curve.py", "--quantity", "gain", "--enf", "1:0.8", cwd=cwd)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--enf 1:0.8" in r.stderr and r.stderr.count("\n") == 1
    r = run("gain_curve.py", "--enf", "1=1.2", cwd=cwd)
    assert r.returncode == 2 and "takes PMT:F pairs" in r.stderr


def test_help_explains():
    for script in ("analysis.py", "gain_curve.py"):
        r = run(script, "--help", cwd=ROOT)
        assert r.returncode == 0 and "--outputs" in r.stdout


@pytest.mark.slow
def test_demo_end_to_end_within_0p3_percent_or_3_errors_of_truth(tmp_path):
    r = run("analysis.py", "--demo", "--jobs", "2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path / "demo" / "outputs"
    assert (out / "gain_curves.png").stat().st_size > 10_000
    curves = pd.read_csv(out / "gain_curves.csv")
    assert len(curves) == 4
    cmp = compare_with_truth(out, tmp_path / "demo" / "campaign")
    assert len(cmp) == 32
    # the window integral's error: the noise of the whole window (and of each flash's
    # baseline, times its length) where single flashes are a few noise rms
    assert (cmp.deviation_pct.abs() < np.maximum(0.3, 3 * cmp.stat_err_pct)).all(), \
        cmp.to_string()
    assert "largest deviation from truth" in r.stdout
    # gain in electrons from the same run: curves, equalisation, and the true gain law,
    # with F measured by the low-light runs of PMTs 1 and 3, and from enf.txt for PMTs 2
    # and 4 (their single photoelectron is not resolved: their runs are flagged)
    from pmtgain.sim.simulate import DEMO_PMTS

    assert "Gain in electrons: the fitted G" in r.stdout and "anchored" in r.stdout
    assert "Low-light runs (Saldanha et al. 2017)" in r.stdout
    info = tmp_path / "demo" / "data_info"
    spe = pd.read_csv(out / "lists" / "spe.csv").set_index("pmt")
    assert spe.flag.isna()[[1, 3]].all() and spe.flag.notna()[[2, 4]].all()
    lists = pd.concat(pd.read_pickle(f) for f in sorted((out / "lists").glob("pmt_*.pkl")))
    for p in DEMO_PMTS:  # the lists analysis.py wrote carry each PMT's F already
        f = lists[lists.pmt == p.pmt].enf
        if p.pmt in (1, 3):
            assert np.allclose(f, spe.enf[p.pmt])
            assert abs(spe.enf[p.pmt] - p.enf) < 3 * spe.enf_err[p.pmt]
            assert abs(spe.gain[p.pmt] / p.gain(spe.hv[p.pmt]) - 1) < 0.05
        else:
            assert (f == p.enf).all(), p.pmt
    r = run("gain_curve.py", "--outputs", str(out), "--data-info", str(info),
            "--quantity", "gain", "--target", "2e6", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "PMT 2 1.25 (enf.txt)" in r.stdout and "PMT 4 1.3 (enf.txt)" in r.stdout
    assert (out / "gain_curves_electrons.png").stat().st_size > 10_000
    g = pd.read_csv(out / "gain_curves_electrons.csv").set_index("pmt")
    # PMTs 1 and 3: the curve anchored on their low-light runs (its scale error apart)
    assert g.curve[1].startswith("anchored") and g.curve[3].startswith("anchored")
    assert g.curve[2].startswith("photostatistics") and g.curve[4].startswith("photostat")
    for p in DEMO_PMTS:  # G at 1000 V and the exponent within 3 sigma of the simulated law
        tot = np.hypot(g.q0_err[p.pmt], np.nan_to_num(g.q0_scale_err[p.pmt]))
        assert abs(g.q0_at_1000V[p.pmt] - p.gain(1000)) < 3 * tot, p.pmt
        assert abs(g.b[p.pmt] - p.k) < 3 * g.b_err[p.pmt], p.pmt
        assert np.isfinite(g.hv_for_target[p.pmt]) and g.hv_for_target_err[p.pmt] > 0
    # --enf overrides the file for the PMTs it names: G scales as 1/F, b stays
    r = run("gain_curve.py", "--outputs", str(out), "--data-info", str(info),
            "--quantity", "gain", "--enf", "2:1.5", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "PMT 2 1.5 (--enf)" in r.stdout and "PMT 1 1.2" in r.stdout
    assert "(low-light run" in r.stdout
    g2 = pd.read_csv(out / "gain_curves_electrons.csv").set_index("pmt")
    assert g2.q0_at_1000V[2] == pytest.approx(g.q0_at_1000V[2] * 1.25 / 1.5, rel=1e-4)
    assert g2.q0_at_1000V[1] == pytest.approx(g.q0_at_1000V[1], rel=1e-9)
    assert g2.b[2] == pytest.approx(g.b[2], rel=1e-6)


@pytest.mark.slow
def test_weak_points_are_redone_with_the_shape_table(tmp_path, capsys):
    """The pipeline's second pass: a point whose own mean pulse is too weak to place its
    window is redone with its PMT's better-measured points' window; resumed, nothing is
    redone."""
    from dataclasses import replace

    from pmtgain.run.pipeline import AnalysisOptions, analyse
    from pmtgain.sim.regimes import REGIMES
    from pmtgain.sim.simulate import simulate_campaign

    pmt = replace(REGIMES["low-light"][0][1], noise_V=8e-3)  # 700 V: ~5 rms in the mean
    camp = simulate_campaign(tmp_path / "c", [pmt], hv=[700, 1300, 1400],
                             n={(2, 700): 250, None: 1500}, seed=4)
    o = AnalysisOptions(data_dir=tmp_path / "d", outputs=tmp_path / "o", jobs=1,
                        progress=False, merge=False)
    res = analyse(camp / "data_info", o)
    src = {x.hv: x.summary["shape_source"] for x in res.outcomes}
    assert src == {700: "table", 1300: "own", 1400: "own"}
    assert "redoing 1 point(s) whose own mean pulse is too weak" in capsys.readouterr().out
    assert (tmp_path / "o" / "lists" / "shapes.csv").exists()
    again = analyse(camp / "data_info", o)
    assert all(x.skipped for x in again.outcomes)
    df = read_json_records(tmp_path / "o" / "lists" / "pmt_2_data_list.json")
    assert df.hv.tolist() == [700, 1300, 1400]


def _formats_campaign(tmp_path):
    """PMT 2 at three HVs: each point in another format, and the same flashes as .trc."""
    from devtools.writers import write_all
    from pmtgain.sim.simulate import demo_pmt, scope_range, simulate_point

    pmt = demo_pmt(2)
    lines, trc_lines = [], []
    for hv, fmt in ((1000, "root_uproot"), (1100, "wavedump"), (1200, "hdf5")):
        volts, _ = simulate_point(pmt, hv, 200, seed=hv)
        gain, offset = scope_range(pmt, hv)
        codes = np.rint((volts + offset) / gain).astype(np.int8)
        d = tmp_path / "bench" / f"PMT2/{hv}"
        files = write_all(d, codes, float(np.float32(gain)), float(np.float32(offset)),
                          float(np.float32(pmt.dt_ns * 1e-9)), pmt.t0_ns * 1e-9, root=False)
        name, fields = files[fmt]
        kv = " ".join(f"{k}={v}" for k, v in fields.items())
        lines.append(f"{d}/ 2 {hv} 1 files={name} {kv}")
        trc_lines.append(f"{d}/ 2 {hv} 1 files=run.trc")
    for sub, text in (("formats", lines), ("trc", trc_lines)):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "data_directories_pmt_2.txt").write_text("\n".join(text) + "\n")


@pytest.mark.slow
def test_a_campaign_of_other_formats_gives_the_lists_of_the_same_flashes_as_trc(tmp_path):
    _formats_campaign(tmp_path)
    lists = {}
    for sub in ("formats", "trc"):
        out = tmp_path / f"out_{sub}"
        r = run("analysis.py", "--data-info", str(tmp_path / sub), "--outputs", str(out),
                "--no-progress", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        lists[sub] = read_json_records(out / "lists" / "pmt_2_data_list.json")
    a, b = lists["formats"], lists["trc"]
    assert list(a.hv) == [1000, 1100, 1200]
    for col in ("mean_charge", "std_dev_charge", "mean_charge_err", "gain"):
        np.testing.assert_allclose(a[col], b[col], rtol=1e-9, err_msg=col)


@pytest.mark.slow
def test_points_measured_again_are_compared_with_a_reference_campaign(tmp_path):
    """gain_curve.py --reference: an earlier campaign's outputs; every (PMT, HV) measured
    in both compared in its errors: PMT 1 the same (another run of the same tube and LED),
    PMT 2's LED 25 % brighter (flagged), a point only in one campaign left out."""
    import dataclasses

    p1, p2 = DEMO_PMTS[:2]
    simulate_campaign(tmp_path / "old", [p1, p2], hv=[900, 1100], n=80, seed=3)
    brighter = dataclasses.replace(p2, mu_pe=1.25 * p2.mu_pe)
    simulate_campaign(tmp_path / "new", [p1, brighter], hv=[900, 1100, 1300], n=80, seed=4)
    for name in ("old", "new"):
        r = run("analysis.py", "--data-info", str(tmp_path / name / "data_info"),
                "--outputs", str(tmp_path / f"out_{name}"), "--data-dir",
                str(tmp_path / f"data_{name}"), "--no-progress", "--jobs", "2", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    r = run("gain_curve.py", "--outputs", str(tmp_path / "out_new"), "--reference",
            str(tmp_path / "out_old"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rep = pd.read_csv(tmp_path / "out_new" / "repeated_points.csv")
    assert rep[["pmt", "hv"]].values.tolist() == [[1, 900], [1, 1100], [2, 900], [2, 1100]]
    same, changed = rep[rep.pmt == 1], rep[rep.pmt == 2]
    assert (np.abs(same.diff_sigma) < 4).all(), same
    assert (changed.diff_sigma < -5).all() and \
        changed.diff_rel.tolist() == pytest.approx([0.25, 0.25], abs=0.1)
    assert "4 point(s) also in" in r.stdout
    assert re.search(r"PMT 2 at 900 V differs from \S+out_old: \+\d+\.\d+ % \(-\d+\.\d "
                     r"sigma\)", r.stderr), r.stderr
    r = run("gain_curve.py", "--outputs", str(tmp_path / "out_new"), "--reference",
            str(tmp_path / "nowhere"), cwd=tmp_path)
    assert r.returncode != 0 and "--reference" in r.stderr and "Traceback" not in r.stderr
