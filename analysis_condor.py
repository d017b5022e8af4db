#!/usr/bin/env python3
"""One HTCondor job: fetch, measure and summarise one (PMT, HV) point.

    analysis_condor.py <dir_url> <pmt> <hv> <n_files> [cut_V|none] [--engine fast|root|integral]

A thin door into :mod:`pmtgain.run.job` (its docstring: outputs and exit statuses).
"""
import sys

from pmtgain.run.job import main

if __name__ == "__main__":
    sys.exit(main())
