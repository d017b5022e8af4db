"""The demo: a simulated 4-PMT campaign served on loopback HTTP and analysed end to end.

``python3 analysis.py --demo`` (or ``pmtgain demo``) simulates the campaign once under
``demo/campaign`` (files whose true charges are known), serves it from a loopback HTTP
server for the duration of the run (so the files travel the same fetching path as real
data), analyses every point in parallel, writes ``demo/outputs/gain_curves.png`` and
prints every point against the simulation's truth.
"""

from __future__ import annotations

import functools
import http.server
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from pmtgain.io.campaign import write_enf
from pmtgain.run.pipeline import AnalysisOptions, analyse
from pmtgain.sim.simspe import simulate_spe_runs
from pmtgain.sim.simulate import DEMO_PMTS, simulate_campaign

__all__ = ["DEMO_HV", "demo_n", "StoreServer", "serve", "serve_directory",
           "ENF_FROM_SHEET", "SPE_HV", "write_data_info", "ensure_campaign",
           "compare_with_truth", "compare_gain_with_truth", "compare_spe_with_truth",
           "run_demo"]

DEMO_HV = (700, 800, 900, 1000, 1100, 1200, 1300, 1400)


def demo_n(pmt, hv: int) -> int:
    """Files per point: more where the pulse is small against the noise, so that the
    mean of every point can be checked against the truth to max(0.3 %, 3 errors)."""
    snr = abs(pmt.mean_peak_V(hv)) / pmt.noise_V
    return 8000 if snr < 5 else 1000 if snr < 15 else 150


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as an S3/Swift endpoint
    # headers and body are two writes: with Nagle's algorithm on, every reused connection
    # would wait ~40 ms for the client's delayed ACK (object stores set TCP_NODELAY)
    disable_nagle_algorithm = True

    def log_message(self, *args):  # no per-request lines on the terminal
        pass


class StoreServer(http.server.ThreadingHTTPServer):
    """A threading HTTP server with an object store's listen backlog: with the default of
    5, the fetcher's 32 simultaneous connections overflow it and the dropped SYNs wait 1 s
    for their retransmission (``listen`` runs in the constructor: a class attribute)."""

    request_queue_size = 128
    daemon_threads = True


def serve(handler) -> tuple[str, StoreServer]:
    """Serve requests with ``handler`` (any ``socketserver`` stream handler) on 127.0.0.1,
    a free port, from a daemon thread. Returns (base_url ending in ``/``, server); stop it
    with ``server.shutdown()`` and ``server.server_close()``."""
    server = StoreServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/", server


def serve_directory(root: str | Path, handler=_QuietHandler):
    """Serve ``root`` on 127.0.0.1 (a free port): :func:`serve` of a file handler."""
    return serve(functools.partial(handler, directory=str(root)))


#: PMTs whose F the demo's lab takes from the data sheet (``enf.txt``): with 1.6 mV of
#: noise their single photoelectron is not resolved at the HV of the low-light run, which
#: says so; PMTs 1 and 3 get F measured from theirs (pmtgain.point.spe)
ENF_FROM_SHEET = (2, 4)
SPE_HV = {1: 1400, 2: 1300, 3: 1400, 4: 1300}


def write_data_info(campaign: Path, base_url: str, dest: Path) -> Path:
    """Rewrite the campaign's data_info with ``base_url`` as the files' location."""
    dest.mkdir(parents=True, exist_ok=True)
    files = sorted((campaign / "data_info").glob("data_directories_pmt_*.txt")) + sorted(
        (campaign / "data_info").glob("spe_pmt_*.txt"))
    for f in files:
        lines = []
        for line in f.read_text().splitlines():
            if line.startswith("#"):
                lines.append(line)
                continue
            url, *rest = line.split()
            rel = url[url.index(campaign.name) + len(campaign.name) + 1:] if "://" not in url \
                else url.split("/", 3)[3]
            lines.append(" ".join([base_url + rel, *rest]))
        (dest / f.name).write_text("\n".join(lines) + "\n")
    # from the truth table: campaigns simulated before enf.txt existed have it too
    truth = pd.read_csv(campaign / "truth" / "summary.csv").groupby("pmt").enf.first()
    sheet = {int(p): float(f) for p, f in truth.items()
             if int(p) in ENF_FROM_SHEET or not (campaign / "truth" / "spe_summary.csv").exists()}
    write_enf(dest, sheet, "the data sheet (the simulated truth)")
    return dest


def ensure_campaign(workdir: Path, n: int | None = None) -> Path:
    campaign = workdir / "campaign"
    if (campaign / "truth" / "summary.csv").exists():
        return campaign
    counts = {(p.pmt, hv): (n or demo_n(p, hv)) for p in DEMO_PMTS for hv in DEMO_HV}
    print(f"simulating the demo campaign ({sum(counts.values())} files) in {campaign}")
    simulate_campaign(campaign, DEMO_PMTS, list(DEMO_HV), n=counts, seed=2024,
                      base_url="http://placeholder/", progress=True)
    print("simulating one low-light run per PMT (20,000 flashes, 1.5 photoelectrons each)")
    simulate_spe_runs(campaign, DEMO_PMTS, hv=SPE_HV, n=20000, mu=1.5, seed=2024,
                      base_url="http://placeholder/")
    return campaign


def compare_with_truth(outputs: Path, campaign: Path) -> pd.DataFrame:
    """Each point's mean charge (every flash, linear estimator) against the true mean over
    all of its flashes, with the paired statistical error; where the campaign has a cut,
    the cut-based mean (the original's rule, ``mean_charge_cut``) beside it."""
    from pmtgain.results.layout import Layout
    from pmtgain.results.store import load_point

    rows = []
    for f in sorted(Layout(Path(outputs)).points.glob("pmt_*_summary.json")):
        _, pmt, hv, _ = f.name.split("_", 3)
        res = load_point(f.parent, int(pmt), int(hv))
        if res is None:
            continue
        s, tab = res.summary, res.table
        truth = pd.read_csv(campaign / "truth" / f"pmt_{pmt}_{hv}V.csv")
        m = tab.merge(truth, on="file")
        counted = (m.status == "ok") & np.isfinite(m.charge_pC)
        w = m.window_charge_pC if "window_charge_pC" in m else m.charge_pC
        d = (w - m.q_true_pC)[counted]
        qt = truth.q_true_pC.mean()
        row = dict(pmt=int(pmt), hv=int(hv), n_used=int(s["n_used"]),
                   mean_charge=s["mean_charge"], true_mean=qt,
                   deviation_pct=100 * (s["mean_charge"] / qt - 1),
                   stat_err_pct=100 * float(np.sqrt(d.var(ddof=1) / counted.sum()
                                                    + s.get("mean_charge_window_err_pC", 0) ** 2))
                   / abs(qt))
        mc = s.get("mean_charge_cut")
        row["cut_removed_pct"] = 100 * (s.get("cut_removed_fraction") or 0.0)
        row["cut_deviation_pct"] = 100 * (mc / qt - 1) if mc is not None and \
            np.isfinite(mc) else np.nan
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["pmt", "hv"]).reset_index(drop=True)


def compare_gain_with_truth(outputs: Path, campaign: Path, info: Path
                            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The gains in electrons against the simulated gain law: photostatistics (with F
    measured by the low-light runs, or the campaign's ``enf.txt``) and anchored on the
    single photoelectron (:mod:`pmtgain.point.anchor`), per point, and per PMT for the fitted
    G = a V^b of each.

    Returns (points, fits): points with ``gain``, ``gain_err``, ``true_gain``, ``pull``;
    fits with, per PMT and curve, the fitted gain at 1000 V and exponent b beside the
    true ones, and pulls (the anchored curve's with its scale error)."""
    from pmtgain.io.campaign import load_enf
    from pmtgain.point.anchor import with_gains
    from pmtgain.results.gaincurve import build, collect
    from pmtgain.results.layout import Layout
    from pmtgain.results.store import load_spe_runs
    from pmtgain.run.pipeline import enf_per_pmt

    lay = Layout(Path(outputs))
    enf, _, _ = enf_per_pmt(lay, enf_file=load_enf(info))
    df = with_gains(collect(lay), enf, load_spe_runs(lay.spe))
    truth = pd.read_csv(campaign / "truth" / "summary.csv")
    pts = df[["pmt", "hv", "n_used", "enf", "gain", "gain_err", "n_pe"]].merge(
        truth[["pmt", "hv", "gain"]].rename(columns={"gain": "true_gain"}), on=["pmt", "hv"])
    pts["deviation_pct"] = 100 * (pts.gain / pts.true_gain - 1)
    pts["pull"] = (pts.gain - pts.true_gain) / pts.gain_err
    _, tab_ps, _ = build(df.drop(columns=["gain_anchored"]), None, None, "gain")
    _, tab_a, _ = build(df, None, None, "gain")
    tab_a = tab_a[tab_a.curve.str.startswith("anchored")]
    rows = []
    for tab in (tab_ps, tab_a):
        for r in tab.to_dict("records"):
            p = next(p for p in DEMO_PMTS if p.pmt == r["pmt"])
            g0 = p.gain(1000)
            err = float(np.hypot(r["q0_err"], np.nan_to_num(r.get("q0_scale_err", 0.0))))
            rows.append(dict(pmt=p.pmt, curve=r["curve"].replace(" on the single "
                                                                 "photoelectron", ""),
                             gain_1000V=r["q0_at_1000V"], err=r["q0_err"],
                             scale_err=r.get("q0_scale_err", np.nan), true_gain_1000V=g0,
                             deviation_pct=100 * (r["q0_at_1000V"] / g0 - 1),
                             pull=(r["q0_at_1000V"] - g0) / err, b=r["b"], b_err=r["b_err"],
                             true_b=p.k, b_pull=(r["b"] - p.k) / r["b_err"]))
    return pts, pd.DataFrame(rows).sort_values(["pmt", "curve"]).reset_index(drop=True)


def compare_spe_with_truth(outputs: Path, campaign: Path) -> pd.DataFrame | None:
    """Each low-light run's G and F against the simulation's."""
    from pmtgain.results.layout import Layout

    f = campaign / "truth" / "spe_summary.csv"
    got = Layout(Path(outputs)).spe_list
    if not (f.exists() and got.exists()):
        return None
    t = pd.read_csv(f)
    m = pd.read_csv(got).merge(t[["pmt", "hv", "gain", "enf"]].rename(
        columns={"gain": "true_gain", "enf": "true_enf"}), on=["pmt", "hv"])
    m["gain_dev_pct"] = 100 * (m.gain / m.true_gain - 1)
    m["gain_pull"] = (m.gain - m.true_gain) / m.gain_err
    m["enf_pull"] = (m.enf - m.true_enf) / m.enf_err
    m["flag"] = m.flag.fillna("").astype(str).str.slice(0, 40)
    return m[["pmt", "hv", "occupancy", "gain", "gain_err", "gain_sys", "true_gain",
              "gain_dev_pct", "gain_pull", "enf", "enf_err", "enf_sys", "true_enf",
              "enf_pull", "flag"]]


def run_demo(workdir: str | Path = "demo", n: int | None = None,
             options: AnalysisOptions | None = None) -> int:
    """Simulate (once), serve, analyse and merge the demo campaign under ``workdir`` and
    print every point against the truth. ``options``: the analysis settings (its
    ``data_dir`` and ``outputs`` are replaced by ``workdir``'s)."""
    workdir = Path(workdir)
    campaign = ensure_campaign(workdir, n)
    base_url, server = serve_directory(campaign)
    outputs = workdir / "outputs"
    opts = replace(options or AnalysisOptions(), data_dir=workdir / "data", outputs=outputs,
                   plots=True)
    try:
        info = write_data_info(campaign, base_url, workdir / "data_info")
        print(f"serving {campaign} at {base_url}")
        run = analyse(info, opts)
    finally:
        server.shutdown()
        server.server_close()
    outcomes = run.outcomes
    cmp = compare_with_truth(outputs, campaign)
    print("\nDemo: every point's mean charge per flash (every flash counts) against the true"
          " mean over all of its flashes; cut_deviation_pct: the original's cut, which keeps"
          " only flashes whose minimum is below cut_V (its own columns, never the main"
          " result)")
    print(cmp.to_string(index=False, float_format="%.4g"))
    worst = cmp.deviation_pct.abs().max()
    _, gfit = compare_gain_with_truth(outputs, campaign, info)
    spe = compare_spe_with_truth(outputs, campaign)
    if spe is not None:
        print("\nLow-light runs (Saldanha et al. 2017): G and F measured without an "
              "assumed F, against the simulated ones (errors: statistical; threshold)")
        print(spe.to_string(index=False, float_format="%.4g"))
    print("\nGain in electrons: the fitted G = a (V/1000 V)^b of the photostatistics gains "
          "(F measured from the low-light runs, or from data_info/enf.txt where a run is "
          "flagged) and, where a PMT's low-light run is unflagged, of the gains anchored on "
          "its single photoelectron (no F; scale_err: the anchor's, common to every HV), "
          "against the simulated gain law")
    print(gfit.to_string(index=False, float_format="%.4g"))
    print(f"\nlargest deviation from truth: {worst:.3f} %; plot: {outputs / 'gain_curves.png'}"
          f"; report: {outputs / 'report.html'}")
    failed = [o for o in outcomes if not o.ok]
    for o in failed:
        print(f"FAILED PMT {o.pmt} at {o.hv} V: {o.error}")
    return 1 if failed else 0
