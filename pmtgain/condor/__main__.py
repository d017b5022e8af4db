"""``python3 -m pmtgain.condor`` (what ``submit_condor_jobs.sh`` runs) and ``pmtgain
condor``: submit | status | wait | retrieve | resubmit. The parser is in :mod:`pmtgain.cli.condor`;
the work in :mod:`pmtgain.condor.submit` and :mod:`pmtgain.condor.queue`."""

import sys

from pmtgain.cli.condor import condor_main as main

if __name__ == "__main__":
    sys.exit(main())
