"""Flashes in ROOT files: one waveform branch of a TTree, read with uproot.

What to use when
----------------
- :data:`ROOT_TREE` - a digitizer's ROOT output, e.g. a CAEN V1730 run with a TTree
  ``t1`` of ``wf0[250]/I``, ``wf1[250]/I`` (one branch per channel, raw ADC codes) and
  ``Time/D``: campaign fields ``tree=t1 branch=wf0 dt_ns=2 volts_per_code=...`` (and
  ``time_branch=Time time_unit_s=...`` for the trigger times). Without ``tree=`` the
  file's only TTree is read; without ``branch=`` its only fixed-size array branch.

uproot (scikit-hep) reads ROOT I/O in pure Python: no ROOT installation is needed. Integer
branches are ADC codes, clipped at code 0 (a digitizer's lowest) unless ``adc_min=``
says otherwise; float branches are volts unless ``volts_per_code=`` is given.
"""

from __future__ import annotations

import io

import numpy as np

from pmtgain.errors import TrcError
from pmtgain.io.block import Block, Format

__all__ = ["ROOT_TREE"]


def _tree(f, name: str, path: str):
    if name:
        try:
            obj = f[name]
        except KeyError:
            raise TrcError(path, f"no tree {name!r} (the file has "
                           f"{', '.join(sorted(f.keys(cycle=False))) or 'nothing'})") from None
        if not hasattr(obj, "arrays"):
            raise TrcError(path, f"{name!r} is a {type(obj).__name__}, not a tree")
        return obj
    trees = [k for k, c in f.classnames(cycle=False).items() if c in ("TTree", "TNtuple")]
    if len(trees) != 1:
        raise TrcError(path, f"{len(trees)} trees ({', '.join(trees) or 'none'}): name one "
                       "with tree=")
    return f[trees[0]]


def _waveforms(tree, name: str, path: str) -> np.ndarray:
    if not name:
        arrays = [k for k in tree.keys() if "[" in tree[k].typename
                  or "std::array" in tree[k].typename]
        if len(arrays) != 1:
            raise TrcError(path, f"{len(arrays)} waveform branches ({', '.join(arrays)}): "
                           "name one with branch=")
        name = arrays[0]
    if name not in tree.keys():
        raise TrcError(path, f"no branch {name!r} in tree {tree.name!r} (it has "
                       f"{', '.join(tree.keys())})")
    a = tree[name].array(library="np")
    if a.dtype == object:  # variable-length records: usable only if all are alike
        lens = {len(x) for x in a}
        if len(lens) != 1:
            raise TrcError(path, f"branch {name!r} has records of {len(lens)} lengths "
                           f"({min(lens)}..{max(lens)} samples): one length per point")
        a = np.stack(a) if len(a) else np.zeros((0, 0))
    return a


def _parse(k: int, buf: bytes, path: str, settings) -> Block:
    try:
        import uproot
    except ImportError:
        raise TrcError(path, "reading ROOT files needs uproot (pip install uproot)") from None
    from pmtgain.io.arrays import array_block

    try:
        with uproot.open(io.BytesIO(buf)) as f:
            tree = _tree(f, settings.tree, path)
            a = _waveforms(tree, settings.branch, path)
            times = None
            if settings.time_branch:
                if settings.time_branch not in tree.keys():
                    raise TrcError(path, f"no branch {settings.time_branch!r} for the trigger "
                                   "times")
                times = np.asarray(tree[settings.time_branch].array(library="np"), float)
    except TrcError:
        raise
    except Exception as exc:  # uproot's own errors for a damaged file have no common base
        raise TrcError(path, f"not a readable ROOT file ({type(exc).__name__}: "
                       f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    if a.ndim != 2 or len(a) == 0:
        raise TrcError(path, f"branch {settings.branch or '(the only one)'} holds no "
                       "waveforms")
    integer = a.dtype.kind in "iu"
    floor = settings.floor(0.0 if integer else -np.inf)
    b = array_block(k, a, path, settings)
    b.floor[:] = floor
    if times is not None:
        if times.shape != (len(a),) or not np.isfinite(times).all():
            raise TrcError(path, f"trigger-time branch {settings.time_branch!r} has "
                           f"{times.size} values for {len(a)} records")
        b.times[:] = times * settings.time_unit_s
    return b


ROOT_TREE = Format("root", (".root",), lambda head: head.startswith(b"root"), _parse)
