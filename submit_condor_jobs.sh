# Submit the campaign to HTCondor: one submit file per PMT (analysis_pmt_<i>.sub), one
# job per HV point of data_info/data_directories_pmt_<i>.txt, each submitted with -spool.
#
#   source submit_condor_jobs.sh [--pmt 1 2] [--dry-run] [--name SCHEDD] [--pool POOL] ...
#
# Safe to source: it runs in a subshell, so it neither exits your shell, nor turns on
# set -e there, nor leaves variables or functions behind. Knobs (environment or flags,
# see `python3 -m pmtgain.condor submit --help`): PMTGAIN_SCHEDD, PMTGAIN_POOL,
# PMTGAIN_IMAGE, PMTGAIN_REQUEST_CPUS/_MEMORY/_DISK, PMTGAIN_EXTRA_ATTRS, PMTGAIN_ENGINE,
# PMTGAIN_MAX_RETRIES, PMTGAIN_JOB_PYTHON; PMTGAIN_PYTHON picks the local interpreter.
# The cluster IDs are printed and recorded in outputs/condor_clusters.json; then
#   pmtgain condor status      # idle / running / done / held per PMT
#   condor_transfer_data <ID>  # or: pmtgain condor retrieve (all clusters)
#   python3 gain_curve.py
__pmtgain_submit() (
    set -euo pipefail
    here=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)
    cd "$here"
    "${PMTGAIN_PYTHON:-python3}" -m pmtgain.condor submit --project "$here" "$@"
)
__pmtgain_submit "$@"
__pmtgain_rc=$?
unset -f __pmtgain_submit
# `return` when sourced, `exit` when run as a script; the status variable goes either way
eval "unset __pmtgain_rc; return $__pmtgain_rc 2>/dev/null || exit $__pmtgain_rc"
