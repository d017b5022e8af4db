"""Numbers a physicist may want to change, in one place, with their units in the names.

Use :class:`FitConfig` to change how a waveform is fitted (bounds, start values,
windows); pass it to :func:`pmtgain.point.process_point`. The defaults reproduce the
original SC_exam analysis (CYGNO, 2024) where that analysis was right and fix it where
it was not (see ``docs/design.md``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

__all__ = ["R_TERMINATION_OHM", "E_CHARGE_C", "PC_PER_C", "ENGINES", "DEFAULT_ENGINE",
           "ANALYSIS_VERSION", "FitConfig", "DEFAULT_FIT", "PointSpec"]

#: Termination of the oscilloscope input: Q = (1/R) * integral of V dt.
R_TERMINATION_OHM = 50.0
#: Elementary charge in coulomb (CODATA 2018, exact).
E_CHARGE_C = 1.602176634e-19
#: Charges are reported in pC.
PC_PER_C = 1e12

#: the per-flash fit engines by name (:mod:`pmtgain.point.engines`), and the default one
ENGINES = ("fast", "root", "integral")
DEFAULT_ENGINE = "fast"
# Bumped whenever a point's numbers change for the same files (fit, selection, moments):
# analysis.py redoes points saved by an older analysis instead of resuming them.
# 2: photostatistics keeps waveforms whose minimum is at the record edge.
# 3: every flash counts (linear charge over all flashes, the cut in its own columns).
# 4: the charge is the window integral of what the scope recorded (no pulse model).
# 5: flashes aligned on their own trigger offsets (pmtgain.io.align).
# 6: the stability in time (drift_*) and the spectrum fit of the low-light runs (fit_*).
ANALYSIS_VERSION = 6


@dataclass(frozen=True)
class FitConfig:
    """Bounds, start values and windows of the pulse fit (the original analysis's steps 2-5).

    Times are in ns, amplitudes in V. ``a_V`` is negative (pulses are negative).
    """

    # bounds of the original fit
    a_min_V: float = -10.0
    a_max_V: float = 0.0
    # onset bounds (absolute ns); infinite: the fit's onset is bounded by the data (from
    # the window's start to the mean pulse's peak), wherever the pulse sits in the record
    c_min_ns: float = float("-inf")
    c_max_ns: float = float("inf")
    # rise and fall times of the (diagnostic) shape fit: pulses of 1-100 ns, sampling
    # 0.05-4 ns
    tau_min_ns: float = 0.01
    tau_max_ns: float = 300.0
    # start values: a from the original fit; rise and fall from the mean pulse's own edges
    # (pmtgain.point.shape.edge_times), no time constant of one PMT family
    a_start_factor: float = 2.5  # a0 = 2.5 x (baseline-subtracted minimum)
    onset_fraction: float = 0.04  # onset/end = where the pulse is within 4 % of its peak
    # samples ignored at both ends when the minimum is searched
    edge_samples: int = 10
    # fit window: from ``pre_ns`` before the onset to ``post_ns`` after the pulse is back
    # within ``onset_fraction`` of its peak (clipped to the record)
    pre_ns: float = 3.0
    post_ns: float = 20.0
    # baseline: samples from the record start (after the edge) to ``baseline_gap_ns``
    # before the point's onset
    baseline_gap_ns: float = 1.0
    # per-waveform onset: free within +- onset_range_ns of the point's onset when the
    # point's mean pulse is at least ``free_onset_snr`` times the noise rms, else fixed at
    # the point's onset (a free onset fits the noise at low signal).
    onset_range_ns: float = 2.0
    onset_step_ns: float = 0.1
    free_onset_snr: float = 15.0
    jitter_start_ns: float = 0.1  # start of the mean pulse's onset jitter (rms)
    jitter_max_ns: float = 2.0
    max_iterations: int = 8
    # the fit "converged" when the onset step is below this (ns)
    onset_tolerance_ns: float = 1e-3
    # the largest onset step of one Gauss-Newton iteration (ns)
    onset_max_step_ns: float = 0.25
    # a waveform whose fit is bad gets a model-free window integral as its charge
    # (so dropping it does not bias the mean); reduced chi2 above this is "bad"
    max_chi2_ndf: float = 5.0
    # a flash with a sample this many times the point's noise rms below the baseline in
    # the baseline region carries a pulse there (dark count, afterpulse): it leaves the
    # statistics, since its baseline is spoiled (prepare)
    pre_pulse_sigma: float = 6.0
    # fewer baseline samples before the pulse than this: use the region after it
    min_baseline_samples: int = 20
    # a point's own shape is "weak" when rise or fall is known to worse than this
    # (relative); it then takes rise, fall and jitter from its PMT's shape table
    shape_max_rel_err: float = 0.05
    # flag a point whose record ends before this share of the pulse integral has passed
    max_tail_missing: float = 0.005
    # a point whose mean pulse is less than this many of its own noise rms deep cannot
    # place its own integration window: it borrows the window and weights of its PMT's
    # stronger points (pmtgain.point.window); never a failure
    min_mean_pulse_snr: float = 10.0
    # the window ends where every sum of the next 1, 2, 4, ... samples of the mean pulse is
    # within this many of its own noise rms of zero (pmtgain.point.window.choose_window)
    window_sigma: float = 2.0
    # the window's margins beyond where the mean pulse is back at the baseline: this share
    # of the pulse's length after it (half before), and at least window_margin_ns
    window_margin_fraction: float = 0.25
    window_margin_ns: float = 2.0
    # flag a point whose cut-based mean differs from the all-flash mean by this many sigma
    cut_bias_sigma: float = 3.0

    def replace(self, **changes: float) -> FitConfig:
        return replace(self, **changes)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


DEFAULT_FIT = FitConfig()


@dataclass(frozen=True)
class PointSpec:
    """One (PMT, HV) point of a campaign: where its files are and how to cut them."""

    pmt: int
    hv: int
    n_files: int
    dir_url: str
    cut_V: float | None = None
    folder: str = ""
    #: what the line measures (:mod:`pmtgain.kinds`: gain, spe, ledoff)
    kind: str = "gain"
    #: the files' names (or glob patterns) when they are not the GIN names (``files=``)
    files: tuple[str, ...] = ()
    #: what the files' format needs, as the line's ``key=value`` text
    #: (:class:`pmtgain.io.readers.ReadSettings`)
    read: tuple[tuple[str, str], ...] = ()
    #: the LED-off run that gives its pedestal (``extra["ledoff"]``, a PointSpec), if any
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def key(self) -> str:
        return f"pmt_{self.pmt}_{self.hv}"

    def file_names(self) -> list[str]:
        """The names the line gives (``files=``; patterns are expanded where the files
        are: :func:`pmtgain.io.fetch.fetch_point`), else file i is
        ``C1--n16deg--{i:05d}.trc`` (the GIN naming)."""
        if self.files:
            return list(self.files[:self.n_files])
        return [f"C1--n16deg--{i:05d}.trc" for i in range(self.n_files)]
