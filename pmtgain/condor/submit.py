"""HTCondor submission: submit files (one per PMT, one job per HV point) and ``-spool``.

What to use when
----------------
- ``source submit_condor_jobs.sh`` (users) or :func:`submit_campaign` - one submit file
  per PMT (``analysis_pmt_<i>.sub``), submitted with ``-spool``; the cluster IDs are
  printed and recorded in ``outputs/condor_clusters.json``.
- :func:`submit_description` - the text of one submit file (plain, readable, editable).
- :class:`SubmitOptions` - every knob, from the environment or flags (below).
- :mod:`pmtgain.condor.queue` - progress, retrieval and resubmission.

Knobs (environment variables; the ``submit`` command also takes them as flags)::

    PMTGAIN_SCHEDD      condor -name   (remote schedd)       default: local
    PMTGAIN_POOL        condor -pool   (central manager)     default: local
    PMTGAIN_IMAGE       +SingularityImage, Requirements = HasSingularity
    PMTGAIN_REQUEST_CPUS / _MEMORY / _DISK                  default: 1 / 1 GB / 2 GB
    PMTGAIN_EXTRA_ATTRS  extra job attributes, ';'-separated: +CygnoUser = "me";+OWNER = "condor"
    PMTGAIN_ENGINE       fit engine: fast, root, integral     default: fast
    PMTGAIN_MAX_RETRIES  retries of a transient (network) failure   default: 3
    PMTGAIN_JOB_PYTHON   interpreter the job runs               default: python3 (image)
    PMTGAIN_HTTP_TOKEN_FILE  a private bucket's bearer token, in a file of mode 600: sent
                         in the jobs' input sandbox, never written into a submit file

Exit policy, measured on HTCondor 23.9 (see ``docs/design.md``): the job always leaves
its two output files (a missing listed output holds the job before any exit policy
applies); exit 75 (network) is retried up to ``max_retries``; exit 65 (bad input) holds
the job with the job's own one-line error as hold reason (set through ``condor_chirp``).

The HTCondor command-line tools are used rather than the Python bindings: they are
what CYGNO users already run in their submit container, they take ``-name``/``-pool``
as given, and the PyPI bindings (25.x, ``htcondor2``) are refused by 23.x daemons until
the user fetches a token (README, "On CYGNO's queue").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

from pmtgain.config import DEFAULT_ENGINE, PointSpec
from pmtgain.errors import CondorError
from pmtgain.io.campaign import campaign_files, parse_campaign_file
from pmtgain.io.runfiles import DARK_KEYS, SPE_KEYS
from pmtgain.kinds import DARK, GAIN, RUNS, SPE, Kind
from pmtgain.parallel import THREAD_VARS
from pmtgain.results import store
from pmtgain.results.layout import CONDOR_DIRS, Layout

__all__ = ["ROOT_FILES", "CLUSTERS_FILE", "INPUT_LIMIT_BYTES", "JOB_STATUS", "ENV_VARS",
           "SubmitOptions", "submit_description", "input_size", "run_condor",
           "read_records", "submit_file", "write_and_submit", "CONDOR_DIRS",
           "make_folders", "submit_campaign"]

ROOT_FILES = ("analysis_condor.py", "exec_condor.sh")
CLUSTERS_FILE = "condor_clusters.json"
INPUT_LIMIT_BYTES = 10 * 1024 * 1024  # the CYGNO queue's advice for uploads
JOB_STATUS = {1: "idle", 2: "running", 3: "removed", 4: "done", 5: "held",
              6: "transferring", 7: "suspended"}


#: the environment variable of each knob
ENV_VARS = {"schedd": "PMTGAIN_SCHEDD", "pool": "PMTGAIN_POOL", "image": "PMTGAIN_IMAGE",
            "request_cpus": "PMTGAIN_REQUEST_CPUS", "request_memory": "PMTGAIN_REQUEST_MEMORY",
            "request_disk": "PMTGAIN_REQUEST_DISK", "extra_attrs": "PMTGAIN_EXTRA_ATTRS",
            "engine": "PMTGAIN_ENGINE", "max_retries": "PMTGAIN_MAX_RETRIES",
            "job_python": "PMTGAIN_JOB_PYTHON", "token_file": "PMTGAIN_HTTP_TOKEN_FILE"}


@dataclass
class SubmitOptions:
    """What goes into a submit file besides the points."""

    schedd: str | None = None
    pool: str | None = None
    image: str | None = None
    request_cpus: int = 1
    request_memory: str = "1 GB"
    request_disk: str = "2 GB"
    extra_attrs: list[str] = field(default_factory=list)
    engine: str = DEFAULT_ENGINE
    max_retries: int = 3
    job_python: str | None = None
    token_file: str | None = None  # a bearer token for a private bucket, sent as a file
    #: the fields given by a flag or an environment variable (they override what the
    #: clusters' records remember); not recorded
    explicit: frozenset = field(default_factory=frozenset, compare=False)

    def to_record(self) -> dict:
        """Every knob, as ``condor_clusters.json`` keeps it for each cluster."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "explicit"}

    @classmethod
    def remembered(cls, rec: dict | None, given: SubmitOptions) -> SubmitOptions:
        """The options a cluster was submitted with (its record), with the fields the user
        gives now (``given.explicit``) taking their place: how ``status``, ``wait``,
        ``retrieve`` and ``resubmit`` reach the same schedd with the same job settings."""
        base = {f.name: getattr(given, f.name) for f in fields(cls) if f.name != "explicit"}
        opts = dict(rec.get("options") or {}) if rec else {}
        if rec:  # records written before every option was kept
            opts.setdefault("schedd", rec.get("schedd"))
            opts.setdefault("pool", rec.get("pool"))
        for k, v in opts.items():
            if k in base and k not in given.explicit:
                base[k] = v
        return cls(**base, explicit=given.explicit)

    @classmethod
    def from_env(cls, env=os.environ) -> SubmitOptions:
        extra = [a.strip() for a in env.get("PMTGAIN_EXTRA_ATTRS", "").split(";")
                 if a.strip()]
        return cls(
            schedd=env.get("PMTGAIN_SCHEDD") or None,
            pool=env.get("PMTGAIN_POOL") or None,
            image=env.get("PMTGAIN_IMAGE") or None,
            request_cpus=int(env.get("PMTGAIN_REQUEST_CPUS", 1)),
            request_memory=env.get("PMTGAIN_REQUEST_MEMORY", "1 GB"),
            request_disk=env.get("PMTGAIN_REQUEST_DISK", "2 GB"),
            extra_attrs=extra,
            engine=env.get("PMTGAIN_ENGINE", DEFAULT_ENGINE),
            max_retries=int(env.get("PMTGAIN_MAX_RETRIES", 3)),
            job_python=env.get("PMTGAIN_JOB_PYTHON") or None,
            token_file=env.get("PMTGAIN_HTTP_TOKEN_FILE") or None,
            explicit=frozenset(k for k, var in ENV_VARS.items() if env.get(var)),
        )

    def location_args(self) -> list[str]:
        """``-name``/``-pool`` for every condor command."""
        args = []
        if self.schedd:
            args += ["-name", self.schedd]
        if self.pool:
            args += ["-pool", self.pool]
        return args


def _item(p: PointSpec) -> str:
    cut = "none" if p.cut_V is None else repr(float(p.cut_V))
    return f"    {p.dir_url} {p.pmt} {p.hv} {p.n_files} {cut}"


def submit_description(pmt: int, points: list[PointSpec], *, project: Path,
                       outputs: Path, info_file: Path, opts: SubmitOptions,
                       kind: Kind = GAIN) -> str:
    """The submit file of one PMT: one job per point, every path absolute. ``kind``: the
    PMT's runs of another kind (:data:`pmtgain.kinds.RUNS`: low-light runs from
    ``spe_pmt_<i>.txt``, outputs ``spe_<i>_<hv>_*``; dark runs from ``dark_pmt_<i>.txt``,
    ``dark_<i>_<hv>_*``)."""
    project, outputs = project.resolve(), outputs.resolve()
    info_rel = info_file.resolve()
    inputs = [project / "analysis_condor.py", project / "pmtgain", info_rel]
    shapes = info_rel.parent / "shapes.csv"
    if shapes.is_file():  # the shape of better-measured points, for weak ones (shape.py)
        inputs.append(shapes)
    token = _token_file(opts.token_file)
    if token is not None:  # the file travels in the sandbox; its name only is written here
        inputs.append(token)
    key = kind.key(pmt, "$(hv)")
    outs = kind.job_outputs
    remaps = store.job_remaps(pmt, "$(hv)", kind=kind)
    attrs = list(opts.extra_attrs)
    lines = [
        f"# pmtgain: PMT {pmt}, {len(points)} HV points from {info_file}",
        "# written by submit_condor_jobs.sh; edit freely, then: condor_submit -spool <this file>",
        "universe                = vanilla",
        f"executable              = {project / 'exec_condor.sh'}",
        "arguments               = $(dir_url) $(i_pmt) $(hv) $(n_files) $(cut_V)"
        f" --engine {opts.engine}" + (f" --kind {kind.name}" if kind is not GAIN else ""),
        f"initialdir              = {Layout(outputs).condor('condor_logs')}",
        f"output                  = ../condor_outputs/{key}_analysis.out",
        f"error                   = ../condor_errors/{key}_analysis.error",
        f"log                     = {key}_analysis.log",
        "",
        "should_transfer_files   = YES",
        "when_to_transfer_output = ON_EXIT",
        f"transfer_input_files    = {', '.join(str(p) for p in inputs)}",
        f"transfer_output_files   = {', '.join(outs)}",
        f'transfer_output_remaps = "{remaps}"',
        "",
        f"request_cpus            = {opts.request_cpus}",
        f"request_memory          = {opts.request_memory}",
        f"request_disk            = {opts.request_disk}",
        "",
        "# exit 75: network trouble, run again; exit 65: bad input, hold with the job's reason",
        f"max_retries             = {opts.max_retries}",
        "on_exit_hold            = ExitCode =?= 65",
        "on_exit_hold_reason     = ifThenElse(isString(PmtgainError), PmtgainError, "
        f'"bad input (exit 65): see condor_errors/{kind.key(pmt, "")}" + string(HV) + '
        '"_analysis.error")',
        "on_exit_hold_subcode    = 65",
        "+WantIOProxy            = true",
        "+PmtgainPMT             = " + str(pmt),
        "+HV                     = $(hv)",
    ]
    env = [f"{v}=1" for v in THREAD_VARS]
    if opts.job_python:
        env.append(f"PMTGAIN_JOB_PYTHON={opts.job_python}")
    if token is not None:
        env.append(f"PMTGAIN_HTTP_TOKEN_FILE={token.name}")
    lines.append(f'environment             = "{" ".join(env)}"')
    if opts.image:
        lines += [f'+SingularityImage        = "{opts.image}"',
                  "requirements            = HasSingularity"]
    lines += attrs
    lines += ["", "queue dir_url, i_pmt, hv, n_files, cut_V from ("]
    lines += [_item(p) for p in points]
    lines += [")", ""]
    return "\n".join(lines)


def _token_file(path: str | None) -> Path | None:
    """The token file to send with the jobs, checked: it exists and only its owner may
    read it (it sits in the schedd's spool and the job's sandbox, never in a submit file)."""
    if not path:
        return None
    p = Path(path).expanduser().resolve()
    try:
        mode = p.stat().st_mode
    except OSError as exc:
        raise CondorError(f"PMTGAIN_HTTP_TOKEN_FILE {p}: {exc.strerror}") from None
    if mode & 0o077:
        raise CondorError(f"PMTGAIN_HTTP_TOKEN_FILE {p} may be read by others (mode "
                          f"{mode & 0o777:o}): chmod 600 {p}")
    return p


def input_size(project: Path) -> int:
    """Bytes every job uploads: the job script, the package, one campaign file."""
    total = (project / "analysis_condor.py").stat().st_size
    for f in (project / "pmtgain").rglob("*.py"):
        total += f.stat().st_size
    return total


# -- running condor commands -------------------------------------------------------------

def run_condor(cmd: list[str], check: bool = True, timeout: float = 600
         ) -> subprocess.CompletedProcess:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise CondorError(f"{cmd[0]}: not found (is HTCondor installed and on PATH?)") from None
    except subprocess.TimeoutExpired:
        raise CondorError(f"{' '.join(cmd[:2])}: no answer within {timeout:g} s") from None
    if check and r.returncode != 0:
        msg = (r.stderr or r.stdout).strip().splitlines()
        raise CondorError(f"{' '.join(cmd[:2])} failed: {msg[-1] if msg else r.returncode}")
    return r


def read_records(outputs: Path) -> list[dict]:
    """The recorded clusters (``condor_clusters.json``); an InputError naming the file
    when it is not a list of cluster records (a hand edit, a file cut short)."""
    from pmtgain.errors import InputError

    f = Path(outputs) / CLUSTERS_FILE
    if not f.exists():
        return []
    try:
        recs = json.loads(f.read_text())
        ok = isinstance(recs, list) and all(
            isinstance(r, dict) and isinstance(r.get("cluster"), int) for r in recs)
    except (OSError, ValueError) as exc:
        raise InputError(f"{f}: cannot be read ({exc})") from None
    if not ok:
        raise InputError(f"{f}: not a list of cluster records (each with its \"cluster\" "
                         "number); fix or remove it")
    return recs


def _record(outputs: Path, rec: dict) -> None:
    from pmtgain.io.safeio import write_atomic

    write_atomic(outputs / CLUSTERS_FILE, json.dumps(read_records(outputs) + [rec], indent=1))


def submit_file(sub: Path, opts: SubmitOptions) -> int:
    """``condor_submit -spool -terse``; returns the cluster ID."""
    r = run_condor(["condor_submit", "-spool", "-terse", *opts.location_args(), str(sub)])
    first = r.stdout.strip().split()[0] if r.stdout.strip() else ""
    try:
        return int(first.split(".")[0])
    except ValueError:
        raise CondorError(f"condor_submit {sub}: unexpected answer {r.stdout!r}") from None


def write_and_submit(pmt, points, *, project, outputs, info_file, opts, name, dry_run,
                      out=sys.stdout, kind: Kind = GAIN) -> dict | None:
    text = submit_description(pmt, points, project=project, outputs=outputs,
                              info_file=info_file, opts=opts, kind=kind)
    sub = project / name
    sub.write_text(text)
    if dry_run:
        print(f"PMT {pmt}: wrote {sub.name} ({len(points)} jobs), not submitted", file=out)
        return None
    cluster = submit_file(sub, opts)
    rec = dict(cluster=cluster, pmt=pmt, kind=kind.name, hv=[p.hv for p in points],
               submit_file=str(sub),
               schedd=opts.schedd, pool=opts.pool, options=opts.to_record(),
               submitted=time.strftime("%Y-%m-%d %H:%M:%S"))
    _record(outputs, rec)
    print(f"PMT {pmt}: {len(points)} jobs submitted as cluster {cluster} ({sub.name})",
          file=out)
    return rec


def make_folders(data_info: Path, data_dir: Path, outputs: Path) -> dict[int, list[int]]:
    """``data/<folder>/<hv>/`` for every point of ``data_info`` and ``outputs/condor_*``
    (``list_directories_condor.py``; a second call changes nothing). Returns each PMT's
    HVs."""
    from pmtgain.io.campaign import load_campaign, local_dir

    points = load_campaign(data_info)
    for p in points:
        local_dir(data_dir, p).mkdir(parents=True, exist_ok=True)
    for d in CONDOR_DIRS:
        (Path(outputs) / d).mkdir(parents=True, exist_ok=True)
    by_pmt: dict[int, list[int]] = {}
    for p in points:
        by_pmt.setdefault(p.pmt, []).append(p.hv)
    return by_pmt


def submit_campaign(project: Path, data_info: Path, outputs: Path, opts: SubmitOptions,
                    pmts: list[int] | None = None, dry_run: bool = False) -> list[dict]:
    """One submit file per PMT of ``data_info``, each submitted with ``-spool``."""
    project, outputs = Path(project).resolve(), Path(outputs).resolve()
    for f in ROOT_FILES:
        if not (project / f).exists():
            raise CondorError(f"{project / f}: missing (run from the project directory)")
    for d in CONDOR_DIRS:
        (outputs / d).mkdir(parents=True, exist_ok=True)
    size = input_size(project)
    if size > INPUT_LIMIT_BYTES:
        print(f"warning: each job uploads {size / 1e6:.1f} MB (CYGNO asks for < 10 MB)",
              file=sys.stderr)
    recs = []
    for f in campaign_files(data_info):
        points = parse_campaign_file(f)
        if not points:
            continue
        pmt = points[0].pmt
        if pmts and pmt not in pmts:
            continue
        rec = write_and_submit(pmt, points, project=project, outputs=outputs, info_file=f,
                                opts=opts, name=f"analysis_pmt_{pmt}.sub", dry_run=dry_run)
        if rec:
            recs.append(rec)
    for kind in RUNS:  # low-light and dark runs: a submit file per PMT and kind
        files = sorted(Path(data_info).glob(kind.campaign_files)) \
            if Path(data_info).is_dir() else []
        for f in files:
            runs = parse_campaign_file(f, keys={DARK: DARK_KEYS, SPE: SPE_KEYS}.get(kind))
            if runs and (not pmts or runs[0].pmt in pmts):
                rec = write_and_submit(runs[0].pmt, runs, project=project, outputs=outputs,
                                        info_file=f, opts=opts, dry_run=dry_run, kind=kind,
                                        name=f"analysis_pmt_{runs[0].pmt}_{kind.name}.sub")
                if rec:
                    recs.append(rec)
    if recs:
        print("clusters: " + " ".join(str(r["cluster"]) for r in recs)
              + f"  (recorded in {outputs / CLUSTERS_FILE})")
        print("next: pmtgain condor status; when done: condor_transfer_data <cluster> "
              "(or pmtgain condor retrieve); python3 gain_curve.py --plots")
    return recs


