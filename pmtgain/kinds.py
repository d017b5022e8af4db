"""Point kinds: what a campaign line measures, and everything that follows from it, in
one registry (a base module: the campaign reader tags lines with it, the results layout
names files by it, HTCondor jobs list their outputs by it).

What to use when
----------------
- :data:`KINDS` / :func:`kind_of` - the kind of a campaign line (``PointSpec.kind``).
- :data:`GAIN` - a point at high light (``data_directories_pmt_<i>.txt``): the charge per
  flash, its spread, the gain in electrons (:func:`pmtgain.point.process_point`); files
  ``pmt_<i>_<hv>_*``; the engine and the fit settings are among its inputs.
- :data:`SPE` - a low-light run (``spe_pmt_<i>.txt``): the single-photoelectron gain and
  F (:func:`pmtgain.point.spe.process_spe`); files ``spe_<i>_<hv>_*``; no engine.
- :data:`DARK` - a dark run (``dark_pmt_<i>.txt``): random- or self-triggered records
  with no light, every pulse counted: the dark-count rate against the threshold
  (:func:`pmtgain.point.darkrun.process_dark`); files ``dark_<i>_<hv>_*``; no engine.
- :data:`AFTERPULSE` - a long-record run (``afterpulse_pmt_<i>.txt``): LED flashes with
  records >= 1 us after the pulse, the afterpulses per photoelectron and their delays
  (:func:`pmtgain.point.longrun.process_long`); files ``ap_<i>_<hv>_*``; never a point of
  the gain curve (its light and record need not be the points').
- :data:`LEDOFF` - an LED-off run (``ledoff_pmt_<i>.txt``): never measured on its own, the
  pedestal of the point or low-light run it belongs to.

:data:`RUNS` are the kinds saved as runs of their own (a summary and spectra, under
``lists/<name>/``), not as points of a gain curve. A new kind is one entry here, its campaign
reader in :mod:`pmtgain.io.runfiles`, its processing function in the point layer, its
branch in :func:`pmtgain.run.executors.run_point` and its list's columns in
:mod:`pmtgain.run.runs`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Kind", "GAIN", "SPE", "DARK", "AFTERPULSE", "LEDOFF", "KINDS", "RUNS",
           "kind_of"]


@dataclass(frozen=True)
class Kind:
    """One kind of campaign line."""

    name: str
    #: its campaign files in ``data_info/``
    campaign_files: str
    #: the prefix of its result files, logs and HTCondor keys (``<prefix>_<i>_<hv>``)
    prefix: str
    #: what its HTCondor job leaves in the sandbox (renamed to ``<prefix>_<i>_<hv>_<rest>``)
    job_outputs: tuple[str, ...]
    #: whether the per-flash fit engine and the fit settings change its numbers
    uses_engine: bool
    description: str

    def key(self, pmt: int | str, hv: int | str) -> str:
        """``<prefix>_<i>_<hv>`` (``hv`` may be an HTCondor macro such as ``$(hv)``)."""
        return f"{self.prefix}_{pmt}_{hv}"


GAIN = Kind("gain", "data_directories_pmt_*.txt", "pmt",
            ("pmt_data_list.pkl", "pmt_summary.json", "pmt_flashes.npz", "pmt_examples.npz"),
            True, "a point at high light: the charge per flash and the gain curve")
SPE = Kind("spe", "spe_pmt_*.txt", "spe", ("pmt_summary.json", "pmt_spectra.npz"), False,
           "a low-light run: the single-photoelectron gain and excess noise factor")
DARK = Kind("dark", "dark_pmt_*.txt", "dark", ("pmt_summary.json", "pmt_spectra.npz"), False,
            "a dark run: records with no light, random or self triggered; the dark-count "
            "rate against the threshold")
AFTERPULSE = Kind("afterpulse", "afterpulse_pmt_*.txt", "ap",
                  ("pmt_summary.json", "pmt_spectra.npz"), False,
                  "a long-record run: the afterpulses per photoelectron and their delays")
LEDOFF = Kind("ledoff", "ledoff_pmt_*.txt", "ledoff", (), False,
              "an LED-off run: the pedestal of the point or low-light run it belongs to")
KINDS = {k.name: k for k in (GAIN, SPE, DARK, AFTERPULSE, LEDOFF)}
#: the kinds saved as runs of their own (``<prefix>_<i>_<hv>_{summary.json,spectra.npz}``)
RUNS = (SPE, DARK, AFTERPULSE)


def kind_of(point) -> Kind:
    """The kind of a campaign line (a :class:`pmtgain.config.PointSpec`)."""
    return KINDS[point.kind]
