#!/usr/bin/env python3
"""Merge per-point results into gain curves (see ``python3 gain_curve.py --help``)."""
import sys

from pmtgain.cli import gain_main

if __name__ == "__main__":
    sys.exit(gain_main())
