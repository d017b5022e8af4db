"""Diagnostic plots of a whole run (``--plots``): every point's page and every PMT's shape
against HV, as PNGs under ``outputs/plots/pmt_<i>/``.

What to use when
----------------
- :func:`render_diagnostics` - all of them, in a process pool with a progress bar. A PNG
  newer than the results it shows, and drawn from the same summary numbers, is kept (a
  re-run only draws what changed, a new F redraws the pages that show the gain); a point
  whose plot fails is named and the others are still drawn.
- where a point's inputs and plots are: :class:`pmtgain.results.layout.Layout`
  (``point`` and ``plot``), for ``analysis.py``'s results and the HTCondor jobs' alike.
- :mod:`pmtgain.report.page` puts them in the HTML page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pmtgain.errors import InputError
from pmtgain.io.safeio import atomic_path
from pmtgain.parallel import parallel_map
from pmtgain.results.layout import Layout

__all__ = ["PALETTE_COLOURS", "ROW_KEY", "row_digest", "Rendered", "render_diagnostics"]

PALETTE_COLOURS = 128  # PNGs quantised to a palette: ~4x smaller, no visible loss


ROW_KEY = "pmtgain-row"  # PNG text chunk: a digest of the summary row a plot shows


def row_digest(row: Mapping) -> str:
    """A short digest of a point's summary row: its diagnostic page is redrawn when the
    numbers it shows change (e.g. the gain after a new excess noise factor)."""
    import json

    text = json.dumps({k: row[k] for k in sorted(row)}, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _png_text(path: Path, key: str) -> str | None:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return im.text.get(key)
    except (OSError, ValueError):
        return None


def _save_png(draw, path: Path, *args, digest: str | None = None, **kwargs) -> None:
    """Draw into memory, quantise to a palette, write atomically (with ``digest`` as a
    text chunk, see :func:`row_digest`)."""
    from PIL import Image, PngImagePlugin

    from pmtgain.report.plots import RawImage

    raw = RawImage()
    draw(*args, raw, **kwargs)
    im = Image.fromarray(raw.pixels, "RGB").quantize(PALETTE_COLOURS,
                                                     method=Image.Quantize.FASTOCTREE)
    path.parent.mkdir(parents=True, exist_ok=True)
    info = None
    if digest is not None:
        info = PngImagePlugin.PngInfo()
        info.add_text(ROW_KEY, digest)
    with atomic_path(path) as tmp:  # unique: reports drawn at once never share one
        im.save(tmp, "PNG", optimize=True, pnginfo=info)


def _render_point(summary: dict, table_path: str, examples_path: str, out: str
                  ) -> tuple[int, int, str | None]:
    """Worker: one point's diagnostic page. Returns (pmt, hv, error or None)."""
    from pmtgain.report.plots import point_diagnostics
    from pmtgain.results.store import load_examples, load_table

    pmt, hv = int(summary["pmt"]), int(summary["hv"])
    try:
        table = load_table(table_path)
        if "status" not in table.columns:
            raise InputError(f"{Path(table_path).name} has no status column")
        _save_png(point_diagnostics, Path(out), summary, table, load_examples(examples_path),
                  digest=row_digest(summary))
        return pmt, hv, None
    except Exception as exc:  # one bad point never stops the others
        return pmt, hv, f"{type(exc).__name__}: {exc}".splitlines()[0]


@dataclass
class Rendered:
    """What :func:`render_diagnostics` did."""

    drawn: int = 0
    kept: int = 0  # up to date from an earlier run
    errors: dict[tuple[int, int], str] = field(default_factory=dict)


def render_diagnostics(df: pd.DataFrame, layout: Layout, jobs: int | None = None,
                       progress: bool = True, force: bool = False) -> Rendered:
    """Draw the diagnostic page of every point in ``df`` (rows from
    :func:`pmtgain.results.gaincurve.collect`) and the shape-vs-HV plot of every PMT."""
    from pmtgain.report.plots import shape_vs_hv

    done = Rendered()
    todo = []
    for row in df.to_dict("records"):
        pmt, hv = int(row["pmt"]), int(row["hv"])
        files = layout.point(pmt, hv)
        tab, ex = files["table"], files["examples"]
        png = layout.plot(pmt, hv)
        if not tab.exists():
            done.errors[(pmt, hv)] = f"no per-waveform table {tab}"
            continue
        newest = max(p.stat().st_mtime for p in (tab, ex) if p.exists())
        if (not force and png.exists() and png.stat().st_mtime >= newest
                and _png_text(png, ROW_KEY) == row_digest(row)):
            done.kept += 1
            continue
        todo.append((row, str(tab), str(ex), str(png)))
    for pmt, sub in df.groupby("pmt"):
        _save_png(shape_vs_hv, layout.plot(int(pmt)), sub, pmt=int(pmt))
    if not todo:
        return done
    for pmt, hv, err in parallel_map(_render_point, todo, jobs=jobs,
                                     desc="diagnostic plots", unit="point",
                                     progress=progress,
                                     on_crash=lambda it, why: (int(it[0]["pmt"]),
                                                               int(it[0]["hv"]), why)):
        if err:
            done.errors[(pmt, hv)] = err
        else:
            done.drawn += 1
    return done


