"""browser.py: headless Chromium renders a page to a PNG (skips without chromium unless
the test command installed it)."""

import os

import pytest

from pmtgain.report.browser import find_chromium, screenshot

needs_browser = pytest.mark.skipif(
    find_chromium() is None and os.environ.get("PMTGAIN_REQUIRE_BROWSER") != "1",
    reason="no chromium (bash scripts/browser.sh)")


@needs_browser
def test_a_page_becomes_a_png(tmp_path):
    page = tmp_path / "p.html"
    page.write_text("<html><body style='background:#c92a2a'><h1>pmtgain</h1></body></html>")
    png = screenshot(page, tmp_path / "p.png", width=400, height=300)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 500


def test_find_chromium_answers():
    assert find_chromium() is None or os.path.exists(find_chromium())
