"""The per-flash fit engines, chosen by name behind one signature.

``engine(name)(prepared, config, shape) -> FitResult``: ``fast`` (:func:`pmtgain.point.pulse.
fit_fast`: amplitude in closed form, onset by template scan and Gauss-Newton), ``integral``
(:func:`pmtgain.point.pulse.fit_integral`: the model-free window integral), ``root``
(:func:`pmtgain.point.rootfit.fit_root`: TF1 and Minuit2, imported only where used). The shared
helpers (:class:`pmtgain.point.pulse.FitResult`, ``empty_result``, ``window_integral_pC``,
``jitter_var_rel``) are public in :mod:`pmtgain.point.pulse`.
"""

from __future__ import annotations

from typing import Protocol

from pmtgain.config import DEFAULT_FIT, FitConfig
from pmtgain.config import ENGINES as ENGINE_NAMES
from pmtgain.errors import InputError
from pmtgain.point.prepare import Prepared
from pmtgain.point.pulse import FitResult, fit_fast, fit_integral
from pmtgain.point.shape import Shape

__all__ = ["Engine", "ENGINES", "engine"]


class Engine(Protocol):
    """What every per-flash fit engine is: a prepared point's flashes, the fit settings and
    the point's shape (None: fit it) in, one :class:`~pmtgain.point.pulse.FitResult` out
    (iminuit's ``typing.py`` is the model). A new engine is a function of this signature
    added to :data:`ENGINES` and its name to :data:`pmtgain.config.ENGINES`."""

    def __call__(self, p: Prepared, config: FitConfig = ...,
                 shape: Shape | None = ...) -> FitResult: ...


def _integral_engine(p: Prepared, config: FitConfig = DEFAULT_FIT,
                     shape: Shape | None = None) -> FitResult:
    res = fit_integral(p, config)
    res.shape = shape
    return res


def _root_engine(p: Prepared, config: FitConfig = DEFAULT_FIT,
                 shape: Shape | None = None) -> FitResult:
    from pmtgain.point import rootfit  # ROOT is imported only in processes that fit with it

    return rootfit.fit_root(p, config, shape)


#: every engine by name, one signature: ``engine(prepared, config, shape) -> FitResult``
ENGINES: dict[str, Engine] = {"fast": fit_fast, "integral": _integral_engine,
                              "root": _root_engine}
assert set(ENGINES) == set(ENGINE_NAMES)


def engine(name: str) -> Engine:
    """The per-flash fit engine called ``name`` (``ValueError`` naming the choices)."""
    try:
        return ENGINES[name]
    except KeyError:
        raise InputError(f"unknown engine {name!r} (choose {', '.join(ENGINES)})") from None
