"""Headless Chromium: a screenshot of the report (``pmtgain report --screenshot``) and the
report's browser test. Debian's ``chromium`` (``scripts/browser.sh``); the flags keep it
off the network (no first-run fetches, no crash reporter)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["CHROMIUM_FLAGS", "find_chromium", "chromium", "screenshot"]

# ---------------------------------------------------------------------------- browser
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars")


def find_chromium() -> str | None:
    """Debian's chromium (or a Chrome) on PATH, else None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        exe = shutil.which(name)
        if exe:
            return exe
    return None


def chromium(args: list[str], profile: str | os.PathLike, timeout: float = 120
             ) -> subprocess.CompletedProcess:
    """Run headless Chromium with a throw-away profile directory."""
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("chromium is not installed (Debian: apt-get install "
                                "chromium; or bash scripts/browser.sh)")
    return subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=timeout)


def screenshot(report: str | os.PathLike, png: str | os.PathLike, width: int = 1400,
               height: int = 2000) -> Path:
    """A PNG of the top ``width`` x ``height`` pixels of the report, from headless Chromium."""

    png = Path(png).resolve()
    with tempfile.TemporaryDirectory(prefix="pmtgain-chromium-") as prof:
        r = chromium([f"--screenshot={png}", f"--window-size={width},{height}",
                      "--virtual-time-budget=5000", Path(report).resolve().as_uri()], prof)
    if not png.exists():
        raise RuntimeError(f"chromium wrote no screenshot of {report}: "
                           f"{(r.stderr or '').strip().splitlines()[-1:]}")
    return png
