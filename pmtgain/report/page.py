"""The campaign report: ``outputs/report.html``, one self-contained page (``--plots``).

What to use when
----------------
- :func:`write_report` - the page: images embedded, no network, no external files; the
  problems first (failed, missing and flagged points), the gain curves in pC and in
  electrons, the fit tables, and per PMT the shape plot, the table of points (what was
  left out and why, the cut's own mean) and a thumbnail of every point's diagnostic page
  (click to enlarge), with the tables as CSV downloads inside the page.
- :func:`make_report` - the diagnostics (:mod:`pmtgain.report.diagnostics`) and the page, from
  what the merge has collected.
- :mod:`pmtgain.report.browser` - a screenshot of the page from headless Chromium.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from pmtgain.io.safeio import write_atomic
from pmtgain.report.diagnostics import Rendered, render_diagnostics
from pmtgain.results.layout import Layout

__all__ = ["REJECTIONS", "LOST_WARNING", "write_report", "make_report"]

# ------------------------------------------------------------------------------ HTML
_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
color:#212529;background:#f8f9fa}
header{background:#1c2b3a;color:#fff;padding:14px 24px}
header h1{margin:0 0 4px;font-size:22px} header p{margin:0;color:#ced4da;font-size:13px}
nav{position:sticky;top:0;background:#fff;border-bottom:1px solid #dee2e6;padding:8px 24px;
z-index:2} nav a{margin-right:14px;color:#1c7ed6;text-decoration:none;font-weight:600}
main{padding:8px 24px 40px} section{background:#fff;border:1px solid #dee2e6;
border-radius:6px;margin:16px 0;padding:12px 18px}
h2{margin:4px 0 10px;font-size:19px} h3{font-size:15px;margin:14px 0 6px}
.cards{display:flex;gap:12px;flex-wrap:wrap} .card{border:1px solid #dee2e6;
border-radius:6px;padding:8px 14px;min-width:120px} .card b{display:block;font-size:20px}
.bad{color:#c92a2a} .warn{color:#e67700} .good{color:#2b8a3e}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0}
th,td{border-bottom:1px solid #e9ecef;padding:3px 8px;text-align:right;white-space:nowrap}
th{background:#f1f3f5;position:sticky;top:38px} td.l,th.l{text-align:left}
tr.flag td{background:#fff4e6} tr.fail td{background:#fff5f5}
.plots{display:flex;gap:12px;flex-wrap:wrap} .plots img{max-width:100%;height:auto}
#curves .plots img{width:calc(50% - 6px);min-width:480px}
.thumbs{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:10px}
figure{margin:0;border:1px solid #e9ecef;border-radius:4px;padding:4px;background:#fff}
figure img{width:100%;height:auto;cursor:zoom-in} figure.big{grid-column:1/-1}
figure.big img{cursor:zoom-out} figcaption{font-size:12px;color:#495057}
ul.problems li{margin:2px 0} p.dl{margin:2px 0 8px;font-size:12.5px}
#broken{display:none;background:#c92a2a;color:#fff;
padding:6px 24px}
"""

_SCRIPT = """
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  document.body.dataset.images = imgs.length;
  document.body.dataset.broken = broken.length;
  if (broken.length) {
    var b = document.getElementById('broken');
    b.textContent = broken.length + ' image(s) could not be shown';
    b.style.display = 'block';
  }
  document.querySelectorAll('figure.thumb').forEach(function (f) {
    f.addEventListener('click', function () { f.classList.toggle('big'); });
  });
  document.body.dataset.rendered = 'yes';
});
"""


def _img(data: bytes | Path, alt: str, width: int | None = None) -> str:
    raw = data.read_bytes() if isinstance(data, Path) else data
    w = f' width="{width}"' if width else ""
    return (f'<img alt="{html.escape(alt)}"{w} src="data:image/png;base64,'
            f'{base64.b64encode(raw).decode("ascii")}">')


def _fmt(x, spec: str = ".4g") -> str:
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return html.escape(str(x)) if x is not None else ""
    return "" if not np.isfinite(xf) else format(xf, spec)


def _pm(value, error, spec: str = ".4g", espec: str = ".2g") -> str:
    """'value ± error', or just the value when the error is unknown."""
    v, e = _fmt(value, spec), _fmt(error, espec)
    return f"{v} ± {e}" if v and e else v


def _csv_link(df: pd.DataFrame, name: str, what: str) -> str:
    """A download link carrying ``df`` as CSV inside the page (a data URI)."""
    data = base64.b64encode(df.to_csv(index=False, float_format="%.6g").encode()).decode()
    return (f"<p class='dl'><a download='{html.escape(name)}' "
            f"href='data:text/csv;base64,{data}'>download {html.escape(what)} (CSV)</a></p>")


#: the summary key (:mod:`pmtgain.point.schema`) behind each column of a point table: its
#: description is the header's tooltip
_FIELD_OF = {"hv": "hv", "used": "n_used", "clipped": "rejected_clipped",
             "pre_pulse": "rejected_pre_pulse", "unreadable": "rejected_unreadable",
             "q": "mean_charge", "sem": "sem_charge", "qcut": "mean_charge_cut",
             "g": "gain", "ga": "gain_anchored", "ratio": "ps_over_anchor", "mu": "n_pe",
             "ts": "tau_s_ns", "tf": "tau_ns", "shape": "shape_source"}


def _table(rows: list[dict], cols: list[tuple[str, str]], row_class=None,
           fields: dict[str, str] | None = None) -> str:
    """A table of ``rows``; ``cols`` are (key, header); ``fields`` maps a key to the
    summary key whose schema description becomes the header's tooltip."""
    from pmtgain.point.schema import field

    def th(i: int, key: str, text: str) -> str:
        f = field((fields or {}).get(key, ""))
        tip = f' title="{html.escape(f.description)}"' if f else ""
        return f'<th class="{"l" if i == 0 else ""}"{tip}>{html.escape(text)}</th>'

    head = "".join(th(i, k, t) for i, (k, t) in enumerate(cols))
    body = []
    for r in rows:
        cls = row_class(r) if row_class else ""
        tds = "".join(f'<td class="{"l" if i == 0 else ""}">{r.get(k, "")}</td>'
                      for i, (k, _) in enumerate(cols))
        body.append(f'<tr class="{cls}">{tds}</tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _curve_png(df: pd.DataFrame, fits: dict, quantity: str) -> bytes:
    from pmtgain.report.plots import gain_curves

    buf = io.BytesIO()
    gain_curves(df, fits, buf, quantity)
    return buf.getvalue()


REJECTIONS = ("clipped", "pre_pulse", "unreadable")
#: a point that left out more than this share of its flashes is listed among the problems
LOST_WARNING = 0.1


def _problems(df: pd.DataFrame, missing: list[tuple[int, int]],
              failed: list[tuple[int, int, str]], plot_errors: Mapping) -> list[str]:
    out = []
    for pmt, hv, why in failed:
        out.append(f'<li class="bad">PMT {pmt} at {hv} V failed: {html.escape(why)}</li>')
    have_reason = {(p, h) for p, h, _ in failed}
    for pmt, hv in missing:
        if (pmt, hv) not in have_reason:
            out.append(f'<li class="bad">PMT {pmt} at {hv} V: no result</li>')
    for r in df.to_dict("records"):
        where = f'<a href="#pt-{r["pmt"]}-{r["hv"]}">PMT {r["pmt"]} at {r["hv"]} V</a>'
        n = r.get("n_flashes") or r.get("n_files") or 0
        lost = sum(int(r.get(f"rejected_{k}") or 0) for k in REJECTIONS)
        if n and lost / n > LOST_WARNING:
            parts = ", ".join(f"{int(r.get(f'rejected_{k}') or 0)} {k.replace('_', ' ')}"
                              for k in REJECTIONS if r.get(f"rejected_{k}"))
            out.append(f'<li class="warn">{where}: {lost} of {n} left out '
                       f'({parts})</li>')
        elif r.get("rejected_unreadable"):
            out.append(f'<li class="warn">{where}: {int(r["rejected_unreadable"])} of '
                       f'{int(r.get("n_files") or 0)} files unreadable or not fetched</li>')
        flag = r.get("gain_flag")
        if isinstance(flag, str) and flag:
            out.append(f'<li class="warn">{where}: gain flagged ({html.escape(flag)})</li>')
        pflag = r.get("point_flag")
        if isinstance(pflag, str) and pflag:
            out.append(f'<li class="warn">{where}: {html.escape(pflag)}</li>')
    for (pmt, hv), err in sorted(plot_errors.items()):
        out.append(f'<li class="warn">PMT {pmt} at {hv} V: no diagnostic plot '
                   f'({html.escape(err)})</li>')
    out += [f'<li class="warn">{html.escape(w)}</li>' for w in df.attrs.get("warnings", [])]
    return out


def _spe_section(spe, pmt: int, layout: Layout) -> list[str]:
    """A PMT's low-light runs: spectra, occupancy, G and F with both errors, the flag."""
    from pmtgain.report.benchplots import spe_spectrum
    from pmtgain.results.store import load_spectra

    where = layout.spe
    if spe is None or not len(spe) or not (spe.pmt == pmt).any():
        return []
    parts = ["<h3>Low-light runs: gain and F without an assumed F (Saldanha et al. "
             "2017), and the spectrum fit beside them (Bellamy et al. 1994)</h3>"]
    rows = []
    for r in spe[spe.pmt == pmt].sort_values("hv").to_dict("records"):
        spectra = load_spectra(where, pmt, r["hv"])
        if spectra is not None:
            buf = io.BytesIO()
            spe_spectrum(r, spectra, buf)
            parts.append(_img(buf.getvalue(), f"PMT {pmt} low-light run at {r['hv']} V"))
        rows.append(dict(hv=r["hv"], lam=_pm(r["occupancy"], r["occupancy_err"], ".3f",
                                              ".3f"),
                         g=_pm(r["gain"], r["gain_err"], ".4g", ".2g")
                         + f" ± {_fmt(r.get('gain_sys'), '.2g')} (thr.)",
                         f=_pm(r["enf"], r["enf_err"], ".3f", ".3f")
                         + f" ± {_fmt(r.get('enf_sys'), '.2g')} (thr.)",
                         fg=_pm(r.get("fit_gain"), r.get("fit_gain_err"), ".4g", ".2g")
                         + f" ± {_fmt(r.get('fit_gain_sys'), '.2g')} (shape), "
                         f"{_fmt(r.get('fit_gain_sigma'), '+.1f')} σ",
                         ff=_pm(r.get("fit_enf"), r.get("fit_enf_err"), ".3f", ".3f")
                         + f" ± {_fmt(r.get('fit_enf_sys'), '.2g')} (shape), "
                         f"{_fmt(r.get('fit_enf_sigma'), '+.1f')} σ",
                         pv=_fmt(r.get("peak_to_valley"), ".3g"),
                         flag=html.escape("; ".join(str(x) for x in (r.get("flag"),
                                                                     r.get("fit_flag"))
                                                    if isinstance(x, str) and x))))
    parts.append(_table(rows, [("hv", "HV [V]"), ("lam", "occupancy λ"), ("g", "G"),
                               ("f", "F"), ("fg", "G, spectrum fit"),
                               ("ff", "F, spectrum fit"), ("pv", "peak/valley"),
                               ("flag", "flag")],
                        row_class=lambda x: "flag" if x["flag"] else ""))
    return parts


def _repeated_section(both) -> list[str]:
    """The points also measured in the reference campaign (``gain_curve.py --reference``)."""
    if both is None or not len(both):
        return []
    rows = [dict(pmt=int(r["pmt"]), hv=int(r["hv"]),
                 now=_pm(-r["mean_charge"], r["mean_charge_err"], ".4g", ".2g"),
                 ref=_pm(-r["mean_charge_ref"], r["mean_charge_err_ref"], ".4g", ".2g"),
                 d=_fmt(100 * r["diff_rel"], "+.2f"), s=_fmt(r["diff_sigma"], "+.1f"),
                 bad=abs(r["diff_sigma"]) >= 3) for r in both.to_dict("records")]
    ref = html.escape(str(both.attrs.get("reference", "the reference")))
    return [f"<h3>Points measured again: this campaign against {ref}</h3>",
            _table(rows, [("pmt", "PMT"), ("hv", "HV [V]"), ("now", "|Q| now [pC]"),
                          ("ref", "|Q| reference [pC]"), ("d", "difference [%]"),
                          ("s", "difference [σ]")],
                   row_class=lambda x: "flag" if x["bad"] else "")]


def _dark_section(curves, pmt: int) -> list[str]:
    """A PMT's dark-count rates against the threshold (the plot and the CSV)."""
    from pmtgain.report.benchplots import dark_rates

    if curves is None or not len(curves) or not (curves.pmt == pmt).any():
        return []
    buf = io.BytesIO()
    dark_rates(curves, buf, pmt)
    return ["<h3>Dark counts (before the LED pulse; dark runs)</h3>",
            _img(buf.getvalue(), f"PMT {pmt} dark-count rate against the threshold"),
            _csv_link(curves[curves.pmt == pmt], f"dark_counts_pmt_{pmt}.csv",
                      "rate against threshold")]


def write_report(df: pd.DataFrame, layout: Layout, missing: list[tuple[int, int]] = (),
                 failed: list[tuple[int, int, str]] = (), target: float | None = None,
                 target_charge: float | None = None, plot_errors: Mapping | None = None,
                 campaign: str | None = None,
                 path: str | os.PathLike | None = None) -> Path:
    """Write the self-contained HTML report (see the module docstring); returns its path."""
    from pmtgain.results.gaincurve import build

    path = Path(path) if path else layout.report
    source = layout.lists if layout.local else layout.points
    plot_errors = dict(plot_errors or {})
    missing, failed = list(missing), list(failed)
    fits_q, tab_q, _ = build(df, None, target_charge, "charge")
    has_gain = "gain" in df.columns and np.isfinite(df["gain"].to_numpy(float)).any()
    fits_g, tab_g = ({}, pd.DataFrame())
    if has_gain:
        fits_g, tab_g, _ = build(df, None, target, "gain")
    pmts = sorted(int(p) for p in set(df.pmt) | {p for p, _ in missing}
                  | {p for p, _, _ in failed})
    n_flashes = int(df["n_flashes"].sum()) if "n_flashes" in df.columns else 0
    n_used = int(df["n_used"].sum()) if "n_used" in df.columns else 0
    engine = ", ".join(sorted(set(map(str, df["engine"].dropna())))) \
        if "engine" in df.columns else "?"
    now = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    problems = _problems(df, missing, failed, plot_errors)
    n_bad = len({(p, h) for p, h, _ in failed} | set(missing))

    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>PMT gain report: {len(pmts)} PMTs, {len(df)} points</title>",
        f"<style>{_CSS}</style></head><body>",
        "<header><h1>PMT gain campaign report</h1>",
        f"<p>{html.escape(now)} &middot; results from {html.escape(str(source))} "
        f"&middot; campaign {html.escape(campaign or '?')} &middot; engine "
        f"{html.escape(engine)}</p></header>",
        "<div id='broken'></div>",
        "<nav><a href='#overview'>Overview</a><a href='#curves'>Gain curves</a>"
        + "".join(f"<a href='#pmt-{p}'>PMT {p}</a>" for p in pmts) + "</nav><main>",
        "<section id='overview'><h2>Overview</h2><div class='cards'>",
        f"<div class='card'><b>{len(pmts)}</b>PMTs</div>",
        f"<div class='card'><b>{len(df)}</b>points with a result</div>",
        f"<div class='card'><b class='{'bad' if n_bad else 'good'}'>{n_bad}</b>"
        "points failed or missing</div>",
        f"<div class='card'><b>{n_used}</b>of {n_flashes} flashes used</div></div>",
        "<h3>Problems</h3>",
        ("<ul class='problems'>" + "".join(problems) + "</ul>") if problems
        else "<p class='good'>none: every point has a result, no point lost more than "
             "10 % of its files, no gain flag.</p>",
        *_repeated_section(df.attrs.get("repeated")),
        "</section>",
        "<section id='curves'><h2>Gain curves</h2><div class='plots'>",
        _img(_curve_png(df, fits_q, "charge"), "gain curves, charge"),
    ]
    if has_gain:
        parts.append(_img(_curve_png(df, fits_g, "gain"), "gain curves, electrons"))
    parts.append("</div><h3>Power-law fits per PMT: value at 1000 V × (V / 1000 V)^b</h3>")
    rows = []
    for r in tab_q.to_dict("records"):
        g = tab_g[tab_g.pmt == r["pmt"]].to_dict("records") if len(tab_g) else []
        g = g[0] if g else {}
        rows.append(dict(
            pmt=f"<a href='#pmt-{r['pmt']}'>PMT {r['pmt']}</a>", n=r.get("n_points"),
            q0=_pm(r.get('q0_at_1000V'), r.get('q0_err'), espec=".2g"),
            b=_pm(r.get('b'), r.get('b_err'), espec=".2g"),
            chi2=_fmt(r.get("chi2_ndf"), ".3g"),
            hvq=_pm(r.get("hv_for_target"), r.get("hv_for_target_err"), ".1f", ".1f")
            if r.get("target") else "",
            enf=_fmt(df.loc[df.pmt == r["pmt"], "enf"].iloc[0], ".3g")
            if "enf" in df.columns and (df.pmt == r["pmt"]).any() else "",
            g0=(_pm(g.get('q0_at_1000V'), g.get('q0_err'), espec=".2g")
                + (f" ± {_fmt(g.get('q0_scale_err'), '.2g')} (scale)"
                   if np.isfinite(g.get("q0_scale_err", np.nan)) else "")) if g else "",
            curve=html.escape(str(g.get("curve") or "")) if g else "",
            bg=_pm(g.get('b'), g.get('b_err'), espec=".2g") if g else "",
            hvt=_pm(g.get("hv_for_target"), g.get("hv_for_target_err"), ".1f", ".1f")
            if g.get("target") else "",
            err=html.escape(str(r.get("error", "") or ""))))
    cols = [("pmt", "PMT"), ("n", "points"), ("q0", "|Q| at 1000 V [pC]"), ("b", "b (charge)"),
            ("chi2", "χ²/ndf")]
    if target_charge is not None:
        cols.append(("hvq", f"HV for |Q| = {abs(target_charge):.3g} pC [V]"))
    if has_gain:
        cols += [("enf", "F"), ("curve", "gain curve"), ("g0", "gain at 1000 V"),
                 ("bg", "b (gain)")]
        if target is not None:
            cols.append(("hvt", f"HV for gain {target:.3g} [V]"))
    cols.append(("err", "fit problem"))
    parts += [_table(rows, cols),
              _csv_link(tab_q if not len(tab_g) else tab_q.merge(
                  tab_g, on="pmt", how="left", suffixes=("_charge", "_gain")),
                  "gain_curve_fits.csv", "the fit table"), "</section>"]

    failed_by_pmt: dict[int, list[str]] = {}
    for p, h, why in failed:
        failed_by_pmt.setdefault(p, []).append(f"{h} V: {html.escape(why)}")
    for p, h in missing:
        if (p, h) not in {(a, b) for a, b, _ in failed}:
            failed_by_pmt.setdefault(p, []).append(f"{h} V: no result")
    for pmt in pmts:
        sub = df[df.pmt == pmt].sort_values("hv")
        parts.append(f"<section id='pmt-{pmt}' class='pmt'><h2>PMT {pmt}</h2>")
        if pmt in failed_by_pmt:
            parts.append("<p class='bad'>Without a result: "
                         + "; ".join(failed_by_pmt[pmt]) + "</p>")
        shape_png = layout.plot(pmt)
        if len(sub) and shape_png.exists():
            parts.append(_img(shape_png, f"PMT {pmt} pulse shape against HV"))
        parts += _spe_section(df.attrs.get("spe"), pmt, layout)
        parts += _dark_section(df.attrs.get("dark"), pmt)
        lr = df.attrs.get("long_runs")  # and the long-record runs (pmtgain.point.longrun)
        ap = sub if lr is None or lr.empty else pd.concat([sub, lr[lr.pmt == pmt]])
        if "ap_delay_counts" in ap.columns and ap["ap_delay_counts"].map(
                lambda x: isinstance(x, str)).any():
            from pmtgain.report.benchplots import afterpulse_delays

            buf = io.BytesIO()
            afterpulse_delays(ap, buf, pmt)
            parts += ["<h3>Afterpulses</h3>",
                      _img(buf.getvalue(), f"PMT {pmt} afterpulse delays")]
        rows = []
        for r in sub.to_dict("records"):
            rows.append(dict(
                hv=f"<a href='#pt-{pmt}-{r['hv']}'>{r['hv']}</a>",
                used=f"{int(r.get('n_used') or 0)} / "
                     f"{int(r.get('n_flashes') or r.get('n_files') or 0)}",
                qcut=(_fmt(-float(r['mean_charge_cut']), ".4g")
                      if r.get("mean_charge_cut") is not None
                      and np.isfinite(r.get("mean_charge_cut")) else ""),
                shape=html.escape(str(r.get("shape_source") or "")),
                **{k: int(r.get(f"rejected_{k}") or 0) for k in REJECTIONS},
                q=_pm(-float(r['mean_charge']), r.get('std_dev_charge'), espec=".3g"),
                sem=_fmt(r.get("sem_charge"), ".2g"),
                g=(_pm(r.get('gain'), r.get('gain_err'), '.3g', '.2g')
                   if "gain" in r else ""),
                ga=(_pm(r.get('gain_anchored'), r.get('gain_anchored_err'), '.3g', '.2g')
                    if np.isfinite(r.get("gain_anchored", np.nan)) else ""),
                ratio=_pm(r.get("ps_over_anchor"), r.get("ps_over_anchor_err"), ".3f", ".1g")
                if np.isfinite(r.get("ps_over_anchor", np.nan)) else "",
                mu=_fmt(r.get("n_pe"), ".3g"),
                flag=html.escape(str(r.get("gain_flag") or "")),
                ts=_pm(r.get('tau_s_ns'), r.get('tau_s_err_ns'), '.3g', '.1g'),
                tf=_pm(r.get('tau_ns'), r.get('tau_err_ns'), '.3g', '.1g'),
                chi=_fmt(r.get("std_fit_charge"), ".2g")))
        parts.append(_table(rows, [
            ("hv", "HV [V]"), ("used", "counted / flashes"), ("clipped", "clipped"),
            ("pre_pulse", "pulse before"), ("unreadable", "unreadable files"),
            ("q", "|Q| mean ± σ [pC], every flash"), ("sem", "σ/√n"),
            ("qcut", "|Q| with the cut [pC]"), ("g", "gain (photostat.)"),
            ("ga", "gain (anchored on the single pe)"), ("ratio", "photostat. / anchored"),
            ("mu", "μ [pe]"),
            ("flag", "flag"), ("ts", "τ_s [ns]"), ("tf", "τ [ns]"), ("shape", "shape")],
            row_class=lambda r: "flag" if r["flag"] else "", fields=_FIELD_OF))
        parts.append(_csv_link(sub, f"pmt_{pmt}_points.csv",
                               f"PMT {pmt}'s points, every column"))
        parts.append("<h3>Points (click a page to enlarge)</h3><div class='thumbs'>")
        for r in sub.to_dict("records"):
            hv = int(r["hv"])
            png = layout.plot(pmt, hv)
            cap = (f"{hv} V: |Q| = {_fmt(-float(r['mean_charge']))} pC, "
                   f"{int(r.get('n_used') or 0)} of {int(r.get('n_flashes') or 0)} flashes used")
            if png.exists():
                body = _img(png, f"PMT {pmt} at {hv} V diagnostics")
            else:
                why = plot_errors.get((pmt, hv), "not drawn (run with --plots)")
                body = f"<p class='warn'>no plot: {html.escape(why)}</p>"
            parts.append(f"<figure class='thumb' id='pt-{pmt}-{hv}'>{body}"
                         f"<figcaption>{html.escape(cap)}</figcaption></figure>")
        parts.append("</div></section>")
    parts += ["</main>", f"<script>{_SCRIPT}</script></body></html>"]
    write_atomic(path, "\n".join(parts))  # unique temporary name, never through a link
    return path


def make_report(df: pd.DataFrame, layout: Layout, missing=(), target: float | None = None,
                target_charge: float | None = None, campaign: str | None = None,
                jobs: int | None = None,
                progress: bool = True, force: bool = False) -> tuple[Path, Rendered]:
    """Render the diagnostics, then write the report. ``df`` as from
    :func:`pmtgain.results.gaincurve.collect` (its ``attrs["failed"]`` are listed as failed);
    ``target`` is a gain (electrons), ``target_charge`` a |charge| in pC: the fit table
    then gives the HV that reaches each."""
    done = render_diagnostics(df, layout, jobs=jobs, progress=progress, force=force)
    path = write_report(df, layout, missing=missing,
                        failed=df.attrs.get("failed", []), target=target,
                        target_charge=target_charge, plot_errors=done.errors, campaign=campaign)
    return path, done


