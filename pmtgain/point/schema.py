"""The described schema of a point's results: every column of the per-flash table and
every key of a point's summary, with its unit and meaning (straxen's described ``dtype``
and ctapipe's ``Field(..., description=...)`` are the models).

What to use when
----------------
- :data:`FLASH_FIELDS` - the per-flash table's columns, in their order
  (:attr:`pmtgain.point.PointResult.table`, the saved ``<key>_flashes.npz``).
- :data:`SUMMARY_FIELDS` - a point's summary keys in reading order (``<key>_summary.json``,
  the per-PMT lists ``pmt_<i>_data_list.*`` and the merged table order their columns by
  it); ``sometimes=True`` marks the keys only some summaries carry.
- :func:`field` - one field by name (a report's header and unit); :func:`describe` - a
  table of fields as text (this module's own docstring below is made by it).

Charges are in pC and negative, as in the original (electrons leave the anode); "flashes
that count" are those with status ``ok`` (readable, not clipped, no pulse in the baseline
region) and a finite charge: every statistic is over all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Field", "FLASH_FIELDS", "SUMMARY_FIELDS", "field", "describe", "column_order"]


@dataclass(frozen=True)
class Field:
    """One column: its ``name``, ``unit`` ("" for counts, text, flags and ratios) and what
    it holds."""

    name: str
    unit: str
    description: str
    sometimes: bool = False


FLASH_FIELDS: tuple[Field, ...] = (
    Field("file", "",
          "basename of the .trc file the flash was read from (or of a file that never arrived)"),
    Field("segment", "",
          "segment index of the flash within its file (0 for a single-segment file)"),
    Field("trigger_time_s", "s",
          "flash's time: the .trc file's TRIGGER_TIME (s since 1970) plus its segment's; NaN "
          "if unreadable"),
    Field("status", "",
          "ok (the flash counts), clipped, pre_pulse (pulse in baseline region) or unreadable"),
    Field("reason", "", "why the file could not be read or fetched; '' for every readable flash"),
    Field("charge_pC", "pC",
          "per-flash charge, negative: the matched-filter charge or the window sum "
          "(per_flash_charge)"),
    Field("window_charge_pC", "pC",
          "(dt/R) sum of (V - baseline) over the window, negative; ripple/LED-off pickup removed"),
    Field("extension_charge_pC", "pC",
          "the same sum over the further half window after the window (0 if the record ends)"),
    Field("sigma_charge_pC", "pC",
          "pedestal rms of charge_pC scaled by this flash's noise_V / the point's; NaN if no "
          "pedestal"),
    Field("passed_cut", "",
          "True if the flash's raw minimum is below cut_V (never removes it); '' in every row "
          "without a cut"),
    Field("fit_status", "",
          "per-flash fit: ok, not_converged, at_bound, edge or linear; '' for flashes that do not "
          "count"),
    Field("fit_charge_pC", "pC",
          "fit: a*(tau-tau_s)/R; window integral on fallback/integral; linear charge if linear; "
          "NaN if not counted"),
    Field("a_V", "V",
          "fitted pulse amplitude a (negative); linear status: the a giving the linear charge; NaN "
          "if none"),
    Field("c_ns", "ns",
          "fitted pulse onset, absolute (records' time axis); the point's onset when linear; NaN "
          "if none"),
    Field("tau_s_ns", "ns",
          "rise time used by the fit: the point's, the same for every flash; NaN for the integral "
          "engine"),
    Field("tau_ns", "ns",
          "fall time used by the fit: the point's, the same for every flash; NaN for the integral "
          "engine"),
    Field("chi2_ndf", "",
          "chi2 per degree of freedom of the flash's fit in its own noise_V; NaN for "
          "linear/integral"),
    Field("amplitude_V", "V",
          "deepest sample of the flash less its baseline (negative for a pulse); NaN if "
          "unreadable"),
    Field("baseline_V", "V", "mean of the flash's baseline-region samples; NaN if unreadable"),
    Field("noise_V", "V", "rms (ddof=1) of the flash's baseline-region samples; NaN if unreadable"),
    Field("pre_min_V", "V",
          "lowest baseline-region sample less the baseline (a dark pulse there); NaN if "
          "unreadable"),
    Field("pre_max_V", "V",
          "highest baseline-region sample less the baseline (noise's mirror); NaN if unreadable"),
)

SUMMARY_FIELDS: tuple[Field, ...] = (
    Field("pmt", "", "PMT number"),
    Field("hv", "V", "high voltage of the point"),
    Field("engine", "",
          "per-flash fit engine (fast, root or integral); fills the fit columns only, no charge"),
    Field("cut_V", "V", "the original's amplitude cut from the campaign line; None without a cut"),
    Field("analysis_version", "", "version of the analysis that produced the numbers (6)"),
    Field("mean_charge", "pC",
          "mean window sum over every flash that counts, negative; the point's charge"),
    Field("mean_charge_err", "pC",
          "error of mean_charge: sem, window, shift/ripple (and LED pickup) errors in quadrature"),
    Field("sem_charge", "pC",
          "std (ddof=1) of the window sums / sqrt(n) over every flash that counts; NaN if n < 2"),
    Field("mean_charge_window_err_pC", "pC",
          "window's uncertainty: further-half-window mean beyond its noise, with shift/ripple "
          "error"),
    Field("mean_charge_extension_pC", "pC",
          "mean extension_charge_pC (further half window) over every flash that counts"),
    Field("mean_charge_filtered", "pC",
          "mean of charge_pC over every flash that counts; equals mean_charge when the filter is "
          "exact"),
    Field("median_charge", "pC", "median of charge_pC over every flash that counts, negative"),
    Field("std_dev_charge", "pC",
          "std (ddof=1) of charge_pC over every flash that counts; NaN if n < 2"),
    Field("std_dev_charge_window", "pC",
          "std (ddof=1) of the window sums over every flash that counts; NaN if n < 2"),
    Field("std_fit_charge", "pC",
          "pedestal rms of charge_pC, sqrt(ps_ped_var_pC2): its spread on noise alone; NaN if no "
          "pedestal"),
    Field("std_charge_corrected", "pC",
          "sqrt(max(var - pedestal var, 0)) of charge_pC: spread of the true charges; NaN if no "
          "pedestal"),
    Field("n_files", "", "distinct files of the point, unreadable and never-fetched ones included"),
    Field("n_flashes", "", "readable flashes (a sequence-mode file holds many)"),
    Field("n_used", "", "flashes that count: every statistic above is over them"),
    Field("rejected_clipped", "", "flashes left out with a sample at the ADC's limit"),
    Field("rejected_pre_pulse", "",
          "flashes left out with a pulse in their baseline region (dark count, afterpulse)"),
    Field("rejected_unreadable", "", "files that could not be read or fetched"),
    Field("mean_charge_cut", "pC",
          "mean charge_pC of the counted flashes passing the cut; NaN without a cut or if none "
          "pass"),
    Field("std_dev_charge_cut", "pC",
          "std (ddof=1) of charge_pC of the counted flashes passing the cut; NaN if < 2 or no cut"),
    Field("n_cut", "", "counted flashes passing the cut; 0 without a cut"),
    Field("cut_removed_fraction", "",
          "share of the counted flashes the cut removes; NaN without a cut"),
    Field("cut_bias_pC", "pC",
          "mean of charge_pC passing the cut minus that of all counted; 0 if none removed, NaN no "
          "cut"),
    Field("cut_bias_err_pC", "pC",
          "statistical error of cut_bias_pC; 0 if the cut removes none, NaN without a cut"),
    Field("cut_bias_sigma", "",
          "significance (in errors) above which cut_flag reports the cut's bias (setting, 3)"),
    Field("cut_flag", "",
          "text when the cut biases the mean significantly (> cut_bias_sigma, > 0.1 %) or removes "
          "all; ''"),
    Field("stability_time_source", "",
          "what the stability blocks are ordered by: trigger times, or flash order if none"),
    Field("stability_blocks", "", "consecutive blocks of flashes in the drift test (0: too few)"),
    Field("stability_span_s", "s", "time from the first to the last flash that counts; NaN "
          "without times"),
    Field("drift_chi2_ndf", "",
          "chi2/ndf of the block means of the window sums against a constant; NaN if < 2 blocks"),
    Field("drift_chi2_sigma", "", "that chi2's one-sided p-value as Gaussian sigma"),
    Field("drift_slope_per_h", "1/h",
          "weighted straight line through the block means: slope / mean, per hour (per flash "
          "without times)"),
    Field("drift_slope_err_per_h", "1/h", "error of drift_slope_per_h"),
    Field("drift_slope_sigma", "", "the slope's significance (two-sided) as Gaussian sigma"),
    Field("drift_first_last", "", "last block's mean / first block's - 1"),
    Field("drift_first_last_err", "", "error of drift_first_last (the two blocks' errors)"),
    Field("drift_flag", "",
          "text when either drift test reaches 3 sigma (pmtgain.point.stability); ''"),
    Field("free_onset", "",
          "True if each flash was fitted with a free onset (own window, good shape, snr > 15); "
          "else linear"),
    Field("n_fit_ok", "", "counted flashes whose fit_status is ok"),
    Field("n_fallback", "",
          "counted flashes whose fit failed (not_converged, at_bound): fit charge = window "
          "integral"),
    Field("mean_charge_fit", "pC",
          "mean fit_charge_pC over counted flashes fitted ok or with fallback; NaN if none"),
    Field("std_dev_charge_fit", "pC", "std (ddof=1) of those fit charges; NaN if fewer than 2"),
    Field("shape_source", "",
          "where the window came from: own, table (borrowed from stronger points) or own-weak"),
    Field("shape_note", "",
          "why the window is not the point's own well-placed one, and what was used instead; ''"),
    Field("window_lo_ns", "ns", "absolute time of the integration window's first sample"),
    Field("window_hi_ns", "ns", "absolute time of the integration window's last sample"),
    Field("window_ext_hi_ns", "ns",
          "absolute time of the last sample of the further half window after it"),
    Field("window_shift_err", "",
          "share of the charge a borrowed window's edge-time error moves out of it; 0 for own"),
    Field("tail_missing_fraction", "",
          "share of the charge after the record's end (extrapolated); 0 if none, NaN if no decay"),
    Field("per_flash_charge", "",
          "which charge charge_pC is: filter (matched filter) or window (the sum, when quieter)"),
    Field("filter_ratio", "",
          "normalisation r of the filter weights (pC/V^2 own weights, pC/V borrowed)"),
    Field("filter_normalisation", "",
          "how r was set: exact (mean filter = mean window sum) or the template's own ratio"),
    Field("snr", "",
          "mean pulse's depth at its peak over the point's noise_V: the signal to noise of one "
          "flash"),
    Field("mean_pulse_snr", "",
          "mean pulse's depth at its peak over the mean pulse's own noise rms"),
    Field("positive_pulse_snr", "",
          "mean pulse's highest sample after the baseline region in its own noise rms (>= 0)"),
    Field("edge_ns", "ns",
          "absolute time of the mean pulse's 50 % leading edge; NaN unless a strong own window"),
    Field("window_lo_rel_ns", "ns",
          "window start minus edge_ns (the template a weak point borrows); NaN unless strong own"),
    Field("window_hi_rel_ns", "ns", "window end minus edge_ns; NaN unless a strong own window"),
    Field("template_dt_ns", "ns",
          "sampling interval of window_template; NaN unless a strong own window"),
    Field("window_template", "",
          "mean pulse over the window, positive, normalised to sum 1, space-separated; '' if none"),
    Field("tau_s_ns", "ns",
          "rise time of the jitter-smeared two-exponential fit to the mean pulse (or the shape "
          "table)"),
    Field("tau_s_err_ns", "ns",
          "error of tau_s_ns (sandwich estimator); NaN at a bound or not estimated"),
    Field("tau_ns", "ns", "fall time of the mean-pulse fit (or the shape table)"),
    Field("tau_err_ns", "ns", "error of tau_ns; NaN at a bound or not estimated"),
    Field("jitter_ns", "ns", "rms onset jitter of the mean-pulse fit (or the shape table)"),
    Field("jitter_err_ns", "ns",
          "error of jitter_ns; NaN at a bound, not estimated or from the table"),
    Field("onset_ns", "ns", "absolute onset time c of the mean-pulse fit; NaN if the fit failed"),
    Field("onset_err_ns", "ns", "error of onset_ns; NaN where not estimated"),
    Field("shape_flag", "",
          "why the shape fit cannot be trusted (failed, at bound, rise/fall > 5 %); '' if it can"),
    Field("baseline_V", "V", "median of the per-flash baselines over every readable flash"),
    Field("noise_V", "V",
          "median per-flash baseline rms of the first chunk's unclipped flashes (reference noise)"),
    Field("baseline_region_ns", "ns",
          "length of each flash's baseline region (the samples its baseline is the mean of)"),
    Field("dark_flashes", "", "flashes whose baseline regions are counted (ok and pre_pulse)"),
    Field("dark_live_s", "s", "dark_flashes x baseline_region_ns: the time counted"),
    Field("dark_thresholds_V", "V",
          "thresholds counted at (3-50 noise rms), space-separated (pmtgain.point.darkrate)"),
    Field("dark_counts_neg", "", "flashes whose baseline region goes below -threshold, each"),
    Field("dark_counts_pos", "", "flashes whose baseline region goes above +threshold (noise)"),
    Field("dark_rate_5sigma_hz", "Hz",
          "dark-count rate at 5 noise rms: -ln(1 - n/N)/T, less the same above +5 rms"),
    Field("dark_rate_5sigma_err_hz", "Hz", "its error (binomial, both counts)"),
    Field("ap_threshold_V", "V", "afterpulse threshold, 5 noise rms (records >= 500 ns after the "
          "pulse)", sometimes=True),
    Field("ap_flashes", "", "flashes searched for afterpulses (every readable one)",
          sometimes=True),
    Field("ap_pulses", "", "pulses below -ap_threshold_V after the LED pulse, all flashes",
          sometimes=True),
    Field("ap_start_ns", "ns", "afterpulse region's start after the onset", sometimes=True),
    Field("ap_region_ns", "ns", "afterpulse region's length (to the record's end)",
          sometimes=True),
    Field("ap_delay_edges_ns", "ns", "delay histogram's bin edges after the onset, "
          "space-separated", sometimes=True),
    Field("ap_delay_counts", "", "afterpulses per delay bin, space-separated", sometimes=True),
    Field("afterpulses_per_flash", "", "ap_pulses / ap_flashes less the dark counts expected "
          "there; at the merge", sometimes=True),
    Field("afterpulses_per_flash_err", "", "its error (Poisson, dark rate)", sometimes=True),
    Field("afterpulse_prob", "", "afterpulses per photoelectron (n_pe_anchored, else n_pe); "
          "at the merge", sometimes=True),
    Field("afterpulse_prob_err", "", "its error (mu's error not included)", sometimes=True),
    Field("ap_threshold_pe", "", "ap_threshold_V in single photoelectrons' amplitude; NaN "
          "without a low-light run", sometimes=True),
    Field("baseline_note", "",
          "ripple removed and/or coherent structure (pick-up) left out of the baseline region; ''"),
    Field("ripple_V", "V", "amplitude of the coherent ripple fitted and removed; 0 without one"),
    Field("ripple_mhz", "MHz", "frequency of that ripple; NaN without one"),
    Field("ripple_err_pC", "pC",
          "error of the ripple's removed sum over the window; 0 without one"),
    Field("background_offset_pC", "pC",
          "coherent background's sum over the window, removed from every window sum; 0 if none"),
    Field("pedestal_source", "",
          "where the pedestal comes from: records (pulse-free samples) or LED-off run (N flashes)"),
    Field("pedestal_note", "",
          "why the pedestal could not be measured (short baseline, < 3 flashes); '' otherwise"),
    Field("ps_ped_var_pC2", "pC^2",
          "pedestal: variance of the per-flash charge estimator on noise alone; NaN if not "
          "measured"),
    Field("ps_ped_err_pC2", "pC^2",
          "statistical error of ps_ped_var_pC2 (jackknife, or from the LED-off run's n)"),
    Field("ped_var_window_pC2", "pC^2",
          "the same pedestal variance for the window sum, from the records' pulse-free samples"),
    Field("led_pickup_pC", "pC",
          "mean window sum of the LED-off run (LED pickup), removed from every flash; NaN without"),
    Field("led_pickup_err_pC", "pC",
          "error of led_pickup_pC (std / sqrt(n)), in mean_charge_err", sometimes=True),
    Field("led_pickup_filter_pC", "pC",
          "mean filtered charge of the LED-off run, removed from filtered charges", sometimes=True),
    Field("ps_n", "", "flashes in the photostatistics moments (= n_used)"),
    Field("ps_mean_pC", "pC",
          "mean of charge_pC over every flash that counts (the <Q> of the gain), negative"),
    Field("ps_mean_err_pC", "pC",
          "error of ps_mean_pC: mean_charge_err before the LED pickup's error is added"),
    Field("ps_var_pC2", "pC^2",
          "variance (ddof=1) of charge_pC over every flash that counts; NaN if n < 2"),
    Field("ps_var_err_pC2", "pC^2",
          "statistical error of ps_var_pC2 from the fourth moment; NaN if n <= 3"),
    Field("ps_cov_pC3", "pC^3",
          "third central moment of charge_pC / n: covariance of the mean and variance estimates"),
    Field("ps_clipped_fraction", "",
          "share of the readable flashes that are clipped (largest charges missing)"),
    Field("enf", "",
          "excess noise factor F used for gain (default 1.2; the PMT's own at the merge)"),
    Field("gain", "electrons",
          "photostatistics gain (ps_var - ps_ped_var) / (e |ps_mean| F); NaN if no excess "
          "variance"),
    Field("gain_err", "electrons",
          "statistical error of gain (moments and pedestal); F's error not included; NaN like "
          "gain"),
    Field("n_pe", "",
          "mean photoelectrons per flash, ps_mean^2 F / excess variance; NaN if no excess "
          "variance"),
    Field("gain_flag", "",
          "why the photostatistics gain deserves caution (no/weak excess, mu < 0.5, clipped, no "
          "pedestal)"),
    Field("gain_scale_err", "electrons",
          "scale error of gain common to the PMT, from F's error; NaN unless F "
          "measured", sometimes=True),
    Field("gain_anchored", "electrons",
          "gain from the PMT's low-light run: G_spe(V0) |<Q>(V)| / |<Q>(V0)|; NaN if no "
          "anchor", sometimes=True),
    Field("gain_anchored_err", "electrons",
          "per-point error of gain_anchored, from mean_charge_err; NaN if no "
          "anchor", sometimes=True),
    Field("gain_anchored_scale_err", "electrons",
          "error of gain_anchored common to the PMT's points (G_spe, <Q>(V0)); "
          "NaN", sometimes=True),
    Field("anchor_hv", "V",
          "HV of the low-light run the PMT's gains are anchored on; NaN if no "
          "anchor", sometimes=True),
    Field("spe_amplitude_V", "V",
          "single photoelectron's mean peak at this HV: the low-light run's, scaled as the "
          "gain", sometimes=True),
    Field("dark_rate_0p25pe_hz", "Hz",
          "dark-count rate of the baseline regions at 0.25 photoelectron's amplitude; NaN "
          "without", sometimes=True),
    Field("dark_rate_0p25pe_err_hz", "Hz", "its error", sometimes=True),
    Field("dark_rate_0p5pe_hz", "Hz", "the same at 0.5 photoelectron", sometimes=True),
    Field("dark_rate_0p5pe_err_hz", "Hz", "its error", sometimes=True),
    Field("n_pe_anchored", "",
          "photoelectrons per flash of the LED setting, |<Q>(V0)| / (e G_spe); NaN if no "
          "anchor", sometimes=True),
    Field("ps_over_anchor", "",
          "gain / gain_anchored: a check of F and of the LED's excess; NaN if no "
          "anchor", sometimes=True),
    Field("ps_over_anchor_err", "",
          "error of ps_over_anchor (gain_err and mean_charge_err); NaN if no "
          "anchor", sometimes=True),
    Field("point_flag", "",
          "everything a physicist should look at (clipping, tail, cut, weak or positive pulse...); "
          "''"),
    Field("n_fetched", "", "files downloaded by this run"),
    Field("n_cached", "",
          "files already complete locally from the same dir_url (all of a local dir_url's)"),
    Field("n_fetch_failed", "", "files that could not be fetched (in the table as unreadable)"),
    Field("n_fetch_transient", "",
          "fetch failures that may pass (network, server, disk), LED-off run's included"),
    Field("dir_url", "", "where the point's files come from, password redacted"),
    Field("inputs", "",
          "JSON of every input besides the files' bytes (dir_url, n_files, cut, engine, settings, "
          "LED-off)"),
    Field("table_rows", "",
          "rows of the saved per-flash table (checked on load); in the saved summary.json "
          "only", sometimes=True),
    Field("list_set", "",
          "id shared by the per-PMT lists written together (pmt_<i>_data_list rows "
          "only)", sometimes=True),
    Field("error", "",
          "why the HTCondor job failed (failure rows only, with NaN charges; left out at the "
          "merge)", sometimes=True),
    Field("retryable", "",
          "True if the failed job's files failed for network reasons and it will be "
          "retried", sometimes=True),
)

_BY_NAME = {f.name: f for f in SUMMARY_FIELDS + FLASH_FIELDS}


def numbers_text(x, spec: str = ".6g") -> str:
    """A list of numbers as a summary field holds it: space-separated text (JSON, CSV and
    pickle keep it alike)."""
    return " ".join(format(float(v), spec) for v in x)


def text_numbers(text) -> np.ndarray:
    """The numbers of a :func:`numbers_text` field (empty for '', NaN or a missing one)."""
    return np.array(str(text).split(), float) if isinstance(text, str) and text.strip() \
        else np.zeros(0)


def field(name: str) -> Field | None:
    """The field called ``name`` (a summary key or a per-flash column), or None."""
    return _BY_NAME.get(name)


def column_order(columns, first: tuple[str, ...] = ()) -> list[str]:
    """``columns`` with ``first`` first, then in the schema's order, then the rest as they
    came: how the lists and tables order their columns."""
    cols = list(columns)
    rank = {f.name: i for i, f in enumerate(SUMMARY_FIELDS)}
    head = [c for c in first if c in cols]
    known = sorted((c for c in cols if c in rank and c not in head), key=rank.__getitem__)
    return head + known + [c for c in cols if c not in rank and c not in head]


def describe(fields: tuple[Field, ...]) -> str:
    """The fields as a plain-text table: ``name [unit]: description``, one per line."""
    return "\n".join(f"- ``{f.name}``" + (f" [{f.unit}]" if f.unit else "") + f": "
                      f"{f.description}" + (" (some summaries only)" if f.sometimes else "")
                      for f in fields)


__doc__ += ("\nThe per-flash table\n-------------------\n" + describe(FLASH_FIELDS)
            + "\n\nThe point summary\n-----------------\n" + describe(SUMMARY_FIELDS) + "\n")
