"""options.py: the pipeline's settings; the command lines start from their defaults."""

import subprocess
import sys

from pmtgain.cli.main import analysis_parser, gain_parser
from pmtgain.run.options import AnalysisOptions, MergeOptions


def test_the_parsers_defaults_are_the_options_defaults():
    a, d = analysis_parser().parse_args([]), AnalysisOptions()
    assert (a.data_dir, a.outputs, a.engine, a.jobs, a.fetch_workers) == (
        str(d.data_dir), str(d.outputs), d.engine, d.jobs, d.fetch_workers)
    g, m = gain_parser().parse_args([]), MergeOptions()
    assert (g.outputs, g.source, g.data_info, g.target, g.quantity, g.jobs) == (
        str(m.outputs), m.source, m.data_info, m.target, m.quantity, m.jobs)


def test_the_options_import_no_pandas():
    code = "import sys, pmtgain.run.options; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"
