#!/bin/bash
# HTCondor job wrapper: check the sandbox, then run analysis_condor.py on one (PMT, HV)
# point. Arguments: <dir_url> <pmt> <hv> <n_files> [cut_V|none] [--engine E].
# Exit 0 done, 75 retry (network), 65 hold (bad input or a broken job environment).
# The interpreter is $PMTGAIN_JOB_PYTHON (default python3, the container image's).
set -u
PY=${PMTGAIN_JOB_PYTHON:-python3}

# HTCondor holds a job whose listed output is missing before any exit policy applies
touch_outputs() {
    for f in pmt_data_list.pkl pmt_summary.json pmt_flashes.npz pmt_examples.npz pmt_spectra.npz; do
        [ -e "$f" ] || : > "$f"
    done
}

fail() {  # fail <reason>: one line to stderr, the hold reason to HTCondor, exit 65
    echo "exec_condor.sh: $1" >&2
    chirp=$(command -v condor_chirp || echo /usr/libexec/condor/condor_chirp)
    if [ -n "${_CONDOR_JOB_AD:-}" ] && [ -x "$chirp" ]; then
        "$chirp" set_job_attr PmtgainError "\"${1//\"/\'}\"" >/dev/null 2>&1 || true
    fi
    touch_outputs
    exit 65
}

for f in analysis_condor.py pmtgain/__init__.py pmtgain/run/job.py pmtgain/point/process.py; do
    [ -e "$f" ] || fail "input file $f is missing from the job sandbox"
done
command -v "$PY" >/dev/null 2>&1 || fail "no interpreter '$PY' on $(hostname)"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 MPLBACKEND=Agg
missing=$("$PY" -c 'import numpy, scipy, pandas, urllib3' 2>&1 | tail -n 1)
[ -z "$missing" ] || fail "job environment ($PY on $(hostname)) is incomplete: $missing"

echo "exec_condor.sh: $(date -u +%FT%TZ) on $(hostname), $("$PY" --version 2>&1), args: $*"
"$PY" analysis_condor.py "$@"
rc=$?
touch_outputs
echo "exec_condor.sh: analysis_condor.py exited with $rc"
exit $rc
