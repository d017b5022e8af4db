"""``python -m pmtgain``: the same as the ``pmtgain`` command (:mod:`pmtgain.cli.main`)."""

import sys

from pmtgain.cli.main import main

sys.exit(main())
