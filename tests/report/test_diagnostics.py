"""diagnostics.py: every point's page drawn once, redrawn only when its numbers change."""

import pandas as pd

from pmtgain.point.process import process_point
from pmtgain.report.diagnostics import render_diagnostics, row_digest
from pmtgain.results.layout import Layout
from pmtgain.results.store import save_point
from pmtgain.sim.simulate import DEMO_PMTS, write_point


def test_pages_are_drawn_then_kept_then_redrawn_on_new_numbers(tmp_path):
    out = tmp_path / "outputs"
    lay = Layout(out)
    rows = []
    for hv in (900, 1100):
        write_point(tmp_path / str(hv), DEMO_PMTS[0], hv, 60, seed=hv)
        res = process_point(sorted((tmp_path / str(hv)).glob("*.trc")), pmt=1, hv=hv)
        save_point(res, lay.points)
        rows.append(res.summary)
    df = pd.DataFrame(rows)
    assert lay.point(1, 900)["table"].exists()
    a = render_diagnostics(df, lay, jobs=1, progress=False)
    assert (a.drawn, a.kept) == (2, 0) and lay.plot(1, 900).exists()
    assert lay.plot(1).exists()  # the shape against HV
    b = render_diagnostics(df, lay, jobs=1, progress=False)
    assert (b.drawn, b.kept) == (0, 2)
    df.loc[0, "gain"] *= 1.1
    assert row_digest(df.iloc[0].to_dict()) != row_digest(rows[0])
    c = render_diagnostics(df, lay, jobs=1, progress=False)
    assert (c.drawn, c.kept) == (1, 1)
