#!/usr/bin/env python3
"""Analyse a PMT campaign on this machine (see ``python3 analysis.py --help``)."""
import sys

from pmtgain.cli import run_analysis

if __name__ == "__main__":
    sys.exit(run_analysis())
