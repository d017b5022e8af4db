"""``python -m pmtgain``: the same as the ``pmtgain`` command (:mod:`pmtgain.cli`)."""

import sys

from .cli import main

sys.exit(main())
