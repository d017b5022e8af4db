"""What a point's processing returns: its summary, per-flash table and example records.

- :class:`PointResult` - the result of :func:`pmtgain.point.process_point` (saved by
  :func:`pmtgain.results.store.save_point`, read back by ``load_point``).
- :func:`string_codes` - a column of strings as (distinct values, an int32 code per row):
  how the per-flash table keeps its text columns without a Python object per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["PointResult", "string_codes"]


@dataclass
class PointResult:
    """``summary``: the point's numbers (one dict); ``table``: one row per flash;
    ``examples``: a few records with their fits, for the plots (or None)."""

    summary: dict
    table: pd.DataFrame
    examples: dict[str, np.ndarray] | None = None


def string_codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values as strings, an int32 code per row) of a column of strings: a
    categorical column's own codes without a Python call per row, any other column's
    values as strings; missing values (None, NaN) are ``""``."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        uniq = col.cat.categories.to_numpy().astype(str)  # categories are never NaN
        codes = col.cat.codes.to_numpy().astype(np.int32)
        if (codes < 0).any():
            uniq, codes = np.append(uniq, ""), np.where(codes < 0, len(uniq), codes)
        return uniq, codes
    uniq, codes = np.unique(np.array(["" if x is None or x != x else str(x)
                                      for x in col.tolist()], dtype=str), return_inverse=True)
    return uniq, codes.astype(np.int32)
