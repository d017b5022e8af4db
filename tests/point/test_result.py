"""result.py: what a point returns, and its strings as codes."""

import numpy as np
import pandas as pd

from pmtgain.point.result import PointResult, string_codes


def test_string_codes_of_plain_and_categorical_columns_with_missing_values():
    plain = pd.Series(["b", None, "a", "b", float("nan")])
    uniq, codes = string_codes(plain)
    assert codes.dtype == np.int32
    assert [uniq[c] for c in codes] == ["b", "", "a", "b", ""]
    cat = pd.Series(["x", None, "y", "x"], dtype="category")
    uniq, codes = string_codes(cat)
    assert [uniq[c] for c in codes] == ["x", "", "y", "x"]


def test_a_result_is_plain_data():
    r = PointResult(summary={"pmt": 1, "hv": 900}, table=pd.DataFrame({"q": [1.0]}))
    assert r.examples is None and r.summary["hv"] == 900 and len(r.table) == 1


def test_the_store_does_not_import_the_point_pipeline():
    """Reading results (gain_curve.py, the queue) needs the result's type, not scipy."""
    import subprocess
    import sys

    code = ("import sys, pmtgain.results.store as s, pmtgain.point as p; "
            "print('pmtgain.point.process' in sys.modules, 'scipy' in sys.modules, "
            "p.process_point.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False", "pmtgain.point.process"]
