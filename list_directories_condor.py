#!/usr/bin/env python3
"""Create the per-PMT/per-HV folders of a campaign (``--help`` says which)."""
import sys

from pmtgain.cli import dirs_main

if __name__ == "__main__":
    sys.exit(dirs_main())
