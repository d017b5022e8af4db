"""Campaign descriptions: which (PMT, HV) points exist, where their files are, their cuts.

What to use when
----------------
- :func:`load_campaign` - every point of a ``data_info`` directory (or of one file).
- :func:`parse_campaign_file` - one ``data_directories_pmt_<i>.txt``.
- :func:`local_dir` - where a point's files are kept locally: ``data/<folder>/<hv>/``
  (:func:`distinct_folders`: ``<folder>-<hash>`` where two dir_urls share a folder).
- :func:`load_enf` - the excess noise factor F of each PMT from ``data_info/enf.txt``
  (optional), for the gain in electrons; PMTs not listed get
  :data:`pmtgain.point.photostat.DEFAULT_ENF`. :func:`write_enf` writes that file,
  :func:`is_enf` says whether a number can be an F.

File format (the original's, one line per HV point, whitespace separated)::

    <dir_url> <pmt> <hv> <n_files> [<cut_V>] [key=value ...]

``dir_url`` is ``https://``, ``http://``, ``file://`` or a local path; file ``i`` of the
point is ``<dir_url>C1--n16deg--{i:05d}.trc``. The optional fifth column is the amplitude
cut in volts (the original kept it in a separate pickle that had to line up by index).
``key=value`` fields say what the files are when they are not GIN's ``.trc``:
``files=`` a comma-separated list of names or glob patterns (patterns only for a local
dir_url; the first ``n_files`` names, sorted, are the point's), ``format=`` and what the
format lacks (:class:`pmtgain.io.readers.ReadSettings`: ``dt_ns``, ``volts_per_code``,
``tree``, ``branch``, ...), e.g. a CAEN V1730 run in ROOT::

    /data/bench/run42/ 7 1100 1 files=run42.root tree=t1 branch=wf0 dt_ns=2 \
        volts_per_code=0.00012207       (one line in the file)
Lines starting with ``#`` and blank lines are ignored. A malformed line raises
:class:`CampaignError` naming ``file:line`` and what is wrong.

Other kinds of run beside the points (:mod:`pmtgain.kinds`), each in its own files with the
same line format: low-light runs ``spe_pmt_<i>.txt`` (:func:`load_spe`; a line may end in
``levels=<dir_url>,...``: the same PMT and HV at other light levels, fitted together),
LED-off runs ``ledoff_pmt_<i>.txt`` (:func:`load_ledoff`), dark runs ``dark_pmt_<i>.txt``
(``trigger=self`` for self-triggered records) and long-record runs for afterpulses
``afterpulse_pmt_<i>.txt`` (:func:`load_runs`).

``enf.txt`` (optional, beside the campaign files), one line per PMT::

    <pmt> <F>        # F = 1 + (sigma_1/Q_1)^2, from the PMT's single-photoelectron spectrum

F is a property of the PMT (its first-dynode gain), not of a point: the photostatistics
gain is G = (sigma_Q^2 - sigma_ped^2) / (e <Q> F), so a 5 % error in F is a 5 % error in G.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from pmtgain.config import PointSpec
from pmtgain.errors import CampaignError
from pmtgain.kinds import GAIN, LEDOFF, SPE

__all__ = ["FILE_PATTERN", "ENF_FILE", "MAX_FILES_PER_POINT", "MAX_PMT", "MAX_HV",
           "SCHEMES", "folder_of", "redact", "parse_campaign_file", "campaign_files",
           "load_campaign", "distinct_folders", "select", "local_dir", "enf_path",
           "is_enf", "write_enf", "load_enf", "SPE_PATTERN", "LEDOFF_PATTERN",
           "load_ledoff", "read_settings", "is_pattern", "shorten", "levels_of"]

FILE_PATTERN = GAIN.campaign_files
ENF_FILE = "enf.txt"


#: a point may list at most this many files (GIN: ~500; sequence files hold many flashes)
MAX_FILES_PER_POINT = 100_000
#: the largest PMT number and HV (V) a campaign line may carry (beyond: a typo)
MAX_PMT = 999_999
MAX_HV = 100_000
#: the dir_url schemes the fetcher knows
SCHEMES = ("http", "https", "file")


def shorten(value: str, n: int = 60) -> str:
    """``repr(value)`` of at most about ``n`` characters (a 1 MB field is not echoed)."""
    return repr(value) if len(value) <= n else repr(value[:n]) + f"... ({len(value)} chars)"


def folder_of(dir_url: str, hv: int, pmt: int) -> str:
    """The PMT folder name in a GIN-style URL: the path segment before ``<hv>``, after
    resolving ``.`` and ``..``; a name that could leave the data directory (``..``, an
    absolute or empty one) gives ``PMT_<pmt>`` instead."""
    path = urlparse(dir_url).path if "://" in dir_url else dir_url
    path = posixpath.normpath("/" + path.replace("\\", "/"))
    parts = [p for p in path.split("/") if p]
    for i in range(len(parts) - 1, 0, -1):
        if parts[i] == str(hv):
            name = parts[i - 1]
            if name not in (".", "..") and not re.search(r"[\x00-\x1f/\\]", name):
                return name
            break
    return f"PMT_{pmt}"


def redact(url: str) -> str:
    """``url`` without a password written into it (``https://user:pass@host`` ->
    ``https://user:***@host``): what logs, summaries, lists and the report show."""
    if "://" not in url or "@" not in url.split("://", 1)[1].split("/", 1)[0]:
        return url
    u = urlparse(url)
    if u.password is None:
        return url
    host = u.netloc.rsplit("@", 1)[1]
    return u._replace(netloc=f"{u.username}:***@{host}").geturl()


_OPTION = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)=(.*)$")


def _options(f: list[str], where: str) -> dict[str, str]:
    """The line's ``key=value`` fields after its columns (removed from ``f``); a URL
    with ``=`` in its query is a column, since the columns come first."""
    opts: dict[str, str] = {}
    while len(f) > 4 and _OPTION.match(f[-1]):
        key, value = _OPTION.match(f.pop()).groups()
        if key in opts:
            raise CampaignError(f"{where}: {key}= is given twice")
        opts[key] = value
    return dict(reversed(opts.items()))


_GLOB = re.compile(r"[*?\[]")


def is_pattern(name: str) -> bool:
    """Whether a ``files=`` name is a glob pattern (``*``, ``?`` or ``[``)."""
    return _GLOB.search(name) is not None


def _files_and_read(opts: dict[str, str], url: str, n_files: int, where: str
                    ) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    from pmtgain.io.readers import ReadSettings

    names: tuple[str, ...] = ()
    if "files" in opts:
        names = tuple(n for n in opts.pop("files").split(",") if n)
        if not names:
            raise CampaignError(f"{where}: files= names no file")
        for n in names:
            if "/" in n or "\\" in n or n in (".", ".."):
                raise CampaignError(f"{where}: files={n!r}: a name in dir_url itself (no "
                                    "folders: point dir_url at the folder)")
            if is_pattern(n) and "://" in url and not url.lower().startswith("file://"):
                raise CampaignError(f"{where}: files={n!r}: a pattern needs a local dir_url "
                                    "(a web server lists no directory); name the files")
        if len(set(names)) != len(names):
            raise CampaignError(f"{where}: files= names a file twice")
    try:
        ReadSettings.from_fields(opts)
        if names and not any(is_pattern(n) for n in names) and len(names) != n_files:
            raise ValueError(f"files= lists {len(names)} names, n_files is {n_files}")
    except ValueError as exc:
        raise CampaignError(f"{where}: {exc}") from None
    return names, tuple(opts.items())


def read_settings(point: PointSpec):
    """The :class:`pmtgain.io.readers.ReadSettings` of a point's line."""
    from pmtgain.io.readers import ReadSettings

    return ReadSettings.from_fields(dict(point.read))


def parse_campaign_file(path: str | os.PathLike, keys: dict[str, tuple[str, ...]] | None = None
                        ) -> list[PointSpec]:
    """The points of one campaign file; ``keys``: the ``key=value`` fields a kind takes
    besides the format's, with their allowed values (the first the default), kept in
    ``extra`` (a dark run's ``trigger=random|self``)."""
    path = Path(path)
    points: list[PointSpec] = []
    seen: dict[tuple[int, int], int] = {}
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CampaignError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        text_all = raw.decode("utf-8-sig")  # a byte-order mark is not part of the text
    except UnicodeDecodeError as exc:
        no = raw[:exc.start].count(b"\n") + 1
        raise CampaignError(f"{path}:{no}: not UTF-8 text (byte 0x{raw[exc.start]:02x})") \
            from None
    for no, line in enumerate(text_all.splitlines(), start=1):
        # a comment starts with '#' at the line's start or after whitespace: a '#' inside
        # a path or URL is part of it
        text = re.split(r"(?:^|\s)#", line, maxsplit=1)[0].strip()
        if not text:
            continue
        where = f"{path}:{no}"
        if "\x00" in text:
            raise CampaignError(f"{where}: a NUL byte in the line (a binary file?)")
        f = text.split()
        opts = _options(f, where)
        if len(f) not in (4, 5):
            raise CampaignError(f"{where}: expected '<dir_url> <pmt> <hv> <n_files> [cut_V] "
                                f"[key=value ...]', got {len(f)} fields before the "
                                "key=value ones")
        url = f[0]
        try:
            pmt, hv_f, n = int(f[1]), float(f[2]), int(f[3])
        except ValueError:
            raise CampaignError(f"{where}: pmt, hv and n_files must be integers, got "
                                f"{shorten(f[1])} {shorten(f[2])} {shorten(f[3])}") from None
        if not np.isfinite(hv_f) or not 0 < hv_f <= MAX_HV or not 0 <= pmt <= MAX_PMT:
            raise CampaignError(f"{where}: pmt/hv out of range ({shorten(f[1])} "
                                f"{shorten(f[2])}: PMT 0..{MAX_PMT}, HV 1..{MAX_HV} V)")
        if hv_f != int(hv_f):
            raise CampaignError(f"{where}: hv {f[2]!r} is not a whole number of volts")
        hv = int(hv_f)
        if not 1 <= n <= MAX_FILES_PER_POINT:
            raise CampaignError(f"{where}: n_files {n} is outside 1..{MAX_FILES_PER_POINT}")
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme and scheme not in SCHEMES or re.match(r"^[a-zA-Z][\w+.-]*:(?!//)", url) \
                and not re.match(r"^[a-zA-Z]:[\\/]", url):
            raise CampaignError(f"{where}: dir_url {shorten(redact(url))}: only "
                                f"{', '.join(s + '://' for s in SCHEMES)} or a local path")
        cut = None
        if len(f) == 5 and f[4].lower() != "none":
            try:
                cut = float(f[4])
            except ValueError:
                raise CampaignError(f"{where}: cut_V {shorten(f[4])} is not a number") from None
            if not np.isfinite(cut):
                raise CampaignError(f"{where}: cut_V {f[4]!r} is not a number of volts")
            if cut >= 0:
                raise CampaignError(f"{where}: cut_V {cut:g} V is not below 0 V: pulses are "
                                    "negative and the cut keeps flashes whose minimum is "
                                    "below it (omit the column for no cut)")
        if (pmt, hv) in seen:
            raise CampaignError(f"{where}: PMT {pmt} at {hv} V is already on line "
                                f"{seen[(pmt, hv)]}")
        seen[(pmt, hv)] = no
        if "://" not in url and not url.endswith(("/", os.sep)):
            url += "/"
        elif "://" in url and not url.endswith("/"):
            url += "/"
        extra = {}
        for key, allowed in (keys or {}).items():
            if allowed is None:  # free text, only where given
                if key in opts:
                    extra[key] = opts.pop(key)
                continue
            extra[key] = opts.pop(key, allowed[0])
            if extra[key] not in allowed:
                raise CampaignError(f"{where}: {key}={shorten(extra[key])}: choose "
                                    f"{' or '.join(allowed)}")
        files, read = _files_and_read(opts, url, n, where)
        pt = PointSpec(pmt=pmt, hv=hv, n_files=n, dir_url=url, cut_V=cut,
                       folder=folder_of(url, hv, pmt), files=files, read=read, extra=extra)
        if "levels" in extra:  # a low-light run's other light levels, checked here
            pt.extra["levels"] = levels_of(pt, extra["levels"], where)
        points.append(pt)
    if not points:
        raise CampaignError(f"{path}: no points (every line is empty or a comment)")
    return points


def levels_of(pt: PointSpec, text: str, where: str = "") -> tuple[PointSpec, ...]:
    """The other light levels of a low-light run's line (its ``levels=`` text): dir_urls,
    comma-separated, each with the line's ``n_files``, file names and format;
    CampaignError naming ``where`` (``file:line``) for a bad one."""
    out = []
    for url in (u for u in text.split(",") if u):
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme and scheme not in SCHEMES:
            raise CampaignError(f"{where}: levels={shorten(redact(url))}: only "
                                f"{', '.join(s + '://' for s in SCHEMES)} or a local path")
        url = url if url.endswith(("/", os.sep)) else url + "/"
        if url == pt.dir_url or any(q.dir_url == url for q in out):
            raise CampaignError(f"{where}: levels= names {shorten(redact(url))} twice")
        out.append(replace(pt, dir_url=url, folder=folder_of(url, pt.hv, pt.pmt), extra={}))
    if not out:
        raise CampaignError(f"{where}: levels= names no dir_url")
    return tuple(out)


def campaign_files(path: str | os.PathLike = "data_info") -> list[Path]:
    """The ``data_directories_pmt_*.txt`` files of a data_info directory, or ``[path]``."""
    p = Path(path)
    if p.is_dir():
        files = sorted(p.glob(FILE_PATTERN))
        if not files:
            raise CampaignError(f"{p}: no {FILE_PATTERN} files")
        return files
    if p.exists():
        return [p]
    raise CampaignError(f"{p}: no such file or directory")


def load_campaign(path: str | os.PathLike = "data_info") -> list[PointSpec]:
    """All points of a data_info directory (files ``data_directories_pmt_*.txt``), or of
    one such file, sorted by PMT and HV; a point with an LED-off run at its PMT and HV
    (:func:`load_ledoff`) has it as ``extra["ledoff"]``."""
    p = Path(path)
    points = [pt for f in campaign_files(p) for pt in parse_campaign_file(f)]
    keys = [(pt.pmt, pt.hv) for pt in points]
    if len(set(keys)) != len(keys):
        dup = sorted({k for k in keys if keys.count(k) > 1})
        raise CampaignError(f"{p}: points listed twice: {dup}")
    off = load_ledoff(p)
    for pt in points:
        if (pt.pmt, pt.hv) in off:
            pt.extra["ledoff"] = off[(pt.pmt, pt.hv)]
    return sorted(distinct_folders(points), key=lambda pt: (pt.pmt, pt.hv))


def distinct_folders(points: list[PointSpec]) -> list[PointSpec]:
    """``points`` with a distinct download folder for each dir_url: two points (or LED-off
    runs) whose URLs end in the same ``<folder>/<hv>/`` but differ before it would share
    ``data/<folder>/<hv>/`` and mix their files; each then gets ``<folder>-<8 hex digits
    of its URL>`` instead. Points whose folder is theirs alone keep it."""
    import hashlib

    def all_specs(pt):  # the point, its LED-off run, its other light levels
        return [pt] + ([pt.extra["ledoff"]] if pt.extra.get("ledoff") is not None else []) \
            + list(pt.extra.get("levels") or ())

    urls: dict[tuple[str, int], set[str]] = {}
    for pt in points:
        for q in all_specs(pt):
            urls.setdefault((q.folder, q.hv), set()).add(redact(q.dir_url))

    def own(q: PointSpec) -> PointSpec:
        if len(urls[(q.folder, q.hv)]) == 1:
            return q
        tag = hashlib.sha256(redact(q.dir_url).encode()).hexdigest()[:8]
        return replace(q, folder=f"{q.folder}-{tag}")

    out = []
    for pt in points:
        new = own(pt)
        if pt.extra.get("ledoff") is not None:
            new = replace(new, extra=dict(new.extra, ledoff=own(pt.extra["ledoff"])))
        if pt.extra.get("levels"):
            new = replace(new, extra=dict(new.extra,
                                          levels=tuple(own(q) for q in pt.extra["levels"])))
        out.append(new)
    return out


def select(points: list[PointSpec], pmts=None, hvs=None) -> list[PointSpec]:
    return [p for p in points if (not pmts or p.pmt in pmts) and (not hvs or p.hv in hvs)]


def local_dir(data_dir: str | os.PathLike, point: PointSpec) -> Path:
    """``data/<folder>/<hv>/`` for remote points; never outside ``data_dir``."""
    d = Path(data_dir) / point.folder / str(point.hv)
    base = os.path.realpath(data_dir)
    if os.path.commonpath([base, os.path.realpath(d)]) != base:
        raise CampaignError(f"PMT {point.pmt} at {point.hv} V: its folder "
                            f"{point.folder!r} would lie outside {data_dir}")
    return d


def enf_path(path: str | os.PathLike = "data_info") -> Path:
    """Where a campaign's ``enf.txt`` is: in ``path`` if it is a directory, else beside it."""
    p = Path(path)
    return (p if p.is_dir() else p.parent) / ENF_FILE


def is_enf(f: float) -> bool:
    """Whether ``f`` can be an excess noise factor: F = 1 + a relative variance, so at
    least 1; above 10 it is surely a typo (typical 1.1-1.5)."""
    return 1.0 <= f < 10.0


def write_enf(dest: str | os.PathLike, enf: dict[int, float], source: str) -> Path:
    """Write ``enf.txt`` in the data_info directory ``dest``; ``source`` says where the
    values come from (written in the header line)."""
    f = Path(dest) / ENF_FILE
    f.write_text(f"# <pmt> <F>: excess noise factor F = 1 + (sigma_1/Q_1)^2 ({source})\n"
                 + "".join(f"{p} {v:g}\n" for p, v in sorted(enf.items())))
    return f


def load_enf(path: str | os.PathLike = "data_info") -> dict[int, float]:
    """Excess noise factor per PMT from the campaign's ``enf.txt`` ({} if it has none).

    Raises :class:`CampaignError` naming ``file:line`` for a malformed line, an F below 1
    (F = 1 + a relative variance) or a PMT listed twice."""
    f = enf_path(path)
    if not Path(path).exists() or not f.is_file():
        return {}
    out: dict[int, float] = {}
    for no, line in enumerate(f.read_text(encoding="utf-8-sig").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        where = f"{f}:{no}"
        fields = text.split()
        if len(fields) != 2:
            raise CampaignError(f"{where}: expected '<pmt> <F>', got {len(fields)} fields")
        try:
            pmt, enf = int(fields[0]), float(fields[1])
        except ValueError:
            raise CampaignError(f"{where}: expected an integer PMT and a number F, got "
                                f"{fields[0]!r} {fields[1]!r}") from None
        if not is_enf(enf):
            raise CampaignError(f"{where}: F = {enf:g} for PMT {pmt} is not an excess noise "
                                "factor (1 <= F < 10; typical 1.1-1.5)")
        if pmt in out:
            raise CampaignError(f"{where}: PMT {pmt} is listed twice")
        out[pmt] = enf
    return out


SPE_PATTERN = SPE.campaign_files
LEDOFF_PATTERN = LEDOFF.campaign_files


def load_ledoff(path: str | os.PathLike = "data_info") -> dict[tuple[int, int], PointSpec]:
    """The LED-off runs of a campaign (pedestal runs at the same settings, no light):
    ``ledoff_pmt_<i>.txt``, the same line format; by ``(pmt, hv)``. A low-light run with
    one at its PMT and HV uses it as its pedestal (:func:`pmtgain.point.spe.process_spe`)."""
    p = Path(path)
    d = p if p.is_dir() else p.parent
    out: dict[tuple[int, int], PointSpec] = {}
    for f in sorted(d.glob(LEDOFF_PATTERN)):
        for pt in parse_campaign_file(f):
            if (pt.pmt, pt.hv) in out:
                raise CampaignError(f"{f}: PMT {pt.pmt} at {pt.hv} V has two LED-off runs")
            out[(pt.pmt, pt.hv)] = replace(pt, cut_V=None, folder=f"{pt.folder}_ledoff",
                                           kind=LEDOFF.name, extra={})
    # distinct folders among all LED-off runs at once: a point's and a low-light run's
    # are attached by different loaders, which would not see each other's
    return {(q.pmt, q.hv): q for q in distinct_folders(list(out.values()))}
