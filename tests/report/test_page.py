"""The campaign report: diagnostics for every point, a self-contained page that names the
problems, and a real headless Chromium that renders it with every image and every PMT."""

import base64
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from pmtgain.report.browser import chromium, find_chromium, screenshot
from pmtgain.sim.simulate import DEMO_PMTS, simulate_campaign

ROOT = Path(__file__).resolve().parents[2]


def run(script, *args, cwd):
    return subprocess.run([sys.executable, str(ROOT / script), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """3 PMTs x 3 HV analysed with --plots; PMT 2 at 1100 V has no files, one file of
    PMT 1 at 900 V is truncated."""
    cwd = tmp_path_factory.mktemp("report")
    camp = simulate_campaign(cwd / "camp", DEMO_PMTS[:3], hv=[900, 1100, 1300], n=50,
                             seed=5)
    info = camp / "data_info"
    bad = info / "data_directories_pmt_2.txt"
    bad.write_text(bad.read_text().replace("/1100/", "/1150/"))
    victim = sorted((camp / "PMT_1_2" / "900").rglob("*.trc"))[3]
    victim.write_bytes(victim.read_bytes()[:200])
    r = run("analysis.py", "--data-info", str(info), "--no-progress", "--jobs", "2",
            "--plots", cwd=cwd)
    assert r.returncode == 1, r.stderr  # one point failed; the others went on
    return cwd, r


@pytest.mark.slow
def test_plots_for_every_point_and_pmt(analysed):
    cwd, r = analysed
    plots = cwd / "outputs" / "plots"
    got = sorted(p.relative_to(plots).as_posix() for p in plots.rglob("*.png"))
    want = sorted(
        [f"pmt_{p}/pmt_{p}_{hv}V.png" for p in (1, 2, 3) for hv in (900, 1100, 1300)
         if (p, hv) != (2, 1100)]
        + [f"pmt_{p}/pmt_{p}_shape_vs_hv.png" for p in (1, 2, 3)])
    assert got == want
    assert "8 drawn, 0 up to date" in r.stdout
    # a second run draws nothing new; --plots on gain_curve.py alone works the same
    r2 = run("gain_curve.py", "--plots", "--no-progress", cwd=cwd)
    assert r2.returncode == 0, r2.stderr
    assert "0 drawn, 8 up to date" in r2.stdout
    # a new excess noise factor changes the gain PMT 1's pages show: only they are redrawn
    r3 = run("gain_curve.py", "--plots", "--no-progress", "--enf", "1:1.3", cwd=cwd)
    assert r3.returncode == 0, r3.stderr
    assert "3 drawn, 5 up to date" in r3.stdout and "PMT 1 1.3 (--enf)" in r3.stdout
    r4 = run("gain_curve.py", "--plots", "--no-progress", cwd=cwd)
    assert "3 drawn, 5 up to date" in r4.stdout


def test_report_is_self_contained_and_names_the_problems(analysed):
    cwd, _ = analysed
    page = (cwd / "outputs" / "report.html").read_text()
    # nothing outside the page: no links to files or servers, only inline images
    assert not re.search(r'(src|href)=["\'](?!data:|#)', page)
    assert "<link" not in page and "@import" not in page
    imgs = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    # two curves, three shape plots, three dark-count plots, eight points
    assert len(imgs) == 2 + 3 + 3 + 8
    for b in imgs:
        assert base64.b64decode(b)[:8] == b"\x89PNG\r\n\x1a\n"
    for p in (1, 2, 3):
        assert f"id='pmt-{p}'" in page
    assert "PMT 2 at 1100 V failed: " in page and "no such directory" in page
    assert "1 of 50 files unreadable or not fetched" in page
    # the tables travel with the page as CSV downloads
    links = dict(re.findall(r"download='([^']+)' href='data:text/csv;base64,([^']+)'", page))
    assert sorted(links) == sorted(["gain_curve_fits.csv"]
                                   + [f"pmt_{p}_points.csv" for p in (1, 2, 3)]
                                   + [f"dark_counts_pmt_{p}.csv" for p in (1, 2, 3)])
    pts = pd.read_csv(io.BytesIO(base64.b64decode(links["pmt_1_points.csv"])))
    lst = pd.read_pickle(cwd / "outputs" / "lists" / "pmt_1_data_list.pkl")
    assert list(pts.hv) == [900, 1100, 1300]
    np.testing.assert_allclose(pts.mean_charge, lst.mean_charge, rtol=1e-5)


needs_browser = pytest.mark.skipif(
    find_chromium() is None and os.environ.get("PMTGAIN_REQUIRE_BROWSER") != "1",
    reason="no chromium (bash scripts/browser.sh)")


def _dom(html_path, tmp_path):
    r = chromium(["--dump-dom", "--virtual-time-budget=10000", html_path.as_uri()],
                 tmp_path / "profile")
    assert r.returncode == 0, r.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", r.stdout)
    assert body, r.stdout[:500]
    return dict(re.findall(r'data-(\w+)="([^"]*)"', body.group(1))), r.stdout


@pytest.mark.browser
@needs_browser
def test_chromium_renders_every_image_and_every_pmt(analysed, tmp_path):
    cwd, _ = analysed
    report = cwd / "outputs" / "report.html"
    attrs, dom = _dom(report, tmp_path)
    assert attrs.get("rendered") == "yes"
    # two curves, three shape plots, three dark-count plots, eight points
    assert attrs.get("images") == "16" and attrs.get("broken") == "0", attrs
    for p in (1, 2, 3):
        assert re.search(rf"<h2>PMT {p}</h2>", dom)
    # the check can fail: a page with one corrupted image is caught by the browser
    bad = tmp_path / "bad.html"
    page = report.read_text()
    i = page.index("base64,") + len("base64,")
    bad.write_text(page[:i] + "AAAA" + page[i + 4:])
    attrs, _ = _dom(bad, tmp_path)
    assert attrs.get("broken") == "1"


@pytest.mark.browser
@needs_browser
def test_screenshot_shows_the_page(analysed, tmp_path):
    cwd, _ = analysed
    png = screenshot(cwd / "outputs" / "report.html", tmp_path / "shot.png", width=1200,
                     height=1600)
    im = np.asarray(Image.open(png).convert("RGB"), float)
    assert im.shape == (1600, 1200, 3)
    # the dark header band on top and coloured plot markers below: a drawn page
    assert im[:40].mean() < 90 and im[200:].std() > 20
    blue = (im[..., 2] > 150) & (im[..., 0] < 80)
    assert blue.sum() > 200


@pytest.mark.slow
def test_report_command_line(analysed):
    cwd, _ = analysed
    r = subprocess.run([sys.executable, "-m", "pmtgain", "report", "--no-progress",
                        "--target", "1e6"], cwd=cwd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "report: outputs/report.html" in r.stdout
    page = (cwd / "outputs" / "report.html").read_text()
    assert "HV for gain 1e+06 [V]" in page and "HV for |Q|" not in page
    assert "<th class=\"\">F</th>" in page  # the excess noise factor behind the gain
    # a --target with the charge curves is a charge in pC, not a gain
    r = run("gain_curve.py", "--plots", "--no-progress", "--target", "3", cwd=cwd)
    assert r.returncode == 0, r.stderr
    page = (cwd / "outputs" / "report.html").read_text()
    assert "HV for |Q| = 3 pC [V]" in page and "HV for gain" not in page


def test_report_when_every_point_failed(tmp_path):
    info = tmp_path / "info"
    info.mkdir()
    (info / "data_directories_pmt_1.txt").write_text(
        f"{tmp_path}/gone/900/ 1 900 5 -0.01\n{tmp_path}/gone/1000/ 1 1000 5 -0.01\n")
    r = run("analysis.py", "--data-info", str(info), "--no-progress", "--plots", cwd=tmp_path)
    assert r.returncode == 1
    assert "gain_curve.py: error: no point has a result in outputs/lists (2 failed" in r.stderr
    page = (tmp_path / "outputs" / "report.html").read_text()
    for hv in (900, 1000):
        assert f"PMT 1 at {hv} V failed: " in page and "no such directory" in page
    assert "Traceback" not in r.stderr


def test_a_point_tables_headers_explain_their_columns_from_the_schema():
    from pmtgain.point.schema import field
    from pmtgain.report.page import _table

    out = _table([dict(hv=900, q="1.0")], [("hv", "HV [V]"), ("q", "|Q|"), ("x", "x")],
                 fields={"hv": "hv", "q": "mean_charge"})
    assert f'title="{field("mean_charge").description}"' in out.replace("&#x27;", "'")
    assert out.count("title=") == 2 and "<th" in out
