"""Fetch the files of a point: HTTP(S) with retries, or local paths as they are.

What to use when
----------------
- :func:`fetch_point` - make every file of a point available locally; returns the local
  paths, the files that failed (with a reason) and the counts fetched / cached / failed.
- :func:`make_session` - a :class:`pmtgain.io.http.Client` (urllib3) with connection
  reuse, timeouts and urllib3 ``Retry`` (connection errors, 429 and 5xx, exponential
  backoff); pass one to reuse it across points. The first attempt of each download is
  its lean GET (:class:`pmtgain.io.http.LeanGet`), which takes only the plain case.
- :func:`is_complete` - a local file counts as present only when its format reads it whole
  (a .trc: its header and sizes)

Guarantees: a download is written to a temporary file and renamed when complete and
valid, so a killed run never leaves a file that looks complete; partial or corrupt files
are fetched again; names are checked so nothing is written outside the data directory.
Credentials for a private bucket come from the environment (``PMTGAIN_HTTP_TOKEN`` for a
bearer token, or ``PMTGAIN_HTTP_USER`` / ``PMTGAIN_HTTP_PASSWORD``) and are never logged:
reasons name only the HTTP status or the kind of network error.
"""

from __future__ import annotations

import errno
import fnmatch
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from pmtgain.config import PointSpec
from pmtgain.errors import TrcError
from pmtgain.io.cache import (  # noqa: F401
    LOCK_FILE,
    SOURCE_FILE,
    UNVERIFIED_DIR,
    FolderLock,
    listing,
    source_is,
    trusted_cache,
)
from pmtgain.io.campaign import is_pattern, read_settings
from pmtgain.io.http import Client, LeanGet, Watchdog, timeout_pair
from pmtgain.io.readers import DEFAULT_READ, ReadSettings, incomplete
from pmtgain.io.trc import MAX_TRC_BYTES, check_bytes, read_file_fast, read_header

__all__ = ["log", "SAFE_NAME", "DEFAULT_TIMEOUT", "FetchReport", "DEFAULT_WORKERS",
           "TRANSIENT_PREFIXES", "is_transient", "is_complete", "make_session",
           "is_remote", "MAX_BODY_BYTES", "DEADLINE_S", "fetch_point"]

log = logging.getLogger("pmtgain.io.fetch")

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
DEFAULT_TIMEOUT = (5.0, 20.0)  # connect, read (s)


@dataclass
class FetchReport:
    paths: list[Path] = field(default_factory=list)  # local files, in point order
    failed: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    fetched: int = 0
    cached: int = 0

    @property
    def n_failed(self) -> int:
        return len(self.failed)


#: parallel downloads per point (an object store answers many at once; measured in
#: bench/bench_fetch.py)
DEFAULT_WORKERS = 32

TRANSIENT_PREFIXES = ("connection error", "timed out", "HTTP 5", "HTTP 429", "truncated body",
                      "disk full", "DNS failure")


def is_transient(reason: str) -> bool:
    """Whether a fetch failure reason may go away by itself (network, server overload),
    as opposed to a permanent one (404, 403, bad bytes, unsafe name)."""
    return reason.startswith(TRANSIENT_PREFIXES)


def is_complete(path: Path, read: ReadSettings = DEFAULT_READ) -> bool:
    """Whether a local file is whole and readable in its format (a ``.trc``: its header
    and sizes only)."""
    if not read.format and str(path).endswith(".trc"):
        try:
            read_header(path)
            return True
        except TrcError:
            return False
    try:
        return incomplete(read_file_fast(os.fspath(path)), os.fspath(path), read) is None
    except TrcError:
        return False


def make_session(retries: int = 5, backoff: float = 0.2, pool: int = 16,
                 lean: bool = True) -> Client:
    """A :class:`Client`; pass one to :func:`fetch_point` to reuse it across points.
    ``lean=False``: every request through urllib3 (no :class:`LeanGet` first attempt)."""
    return Client(retries, backoff, pool, lean)


def is_remote(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def _local_source(url: str) -> Path:
    if url.startswith("file://"):
        return Path(unquote(urlparse(url).path))
    return Path(url)


def _safe_target(dest: Path, name: str, dest_real: Path | None = None) -> Path:
    """``dest/name``, refusing names that are unsafe or would leave ``dest`` (a symlink
    planted in ``dest`` included)."""
    if not SAFE_NAME.match(name) or name in (".", ".."):
        raise ValueError(f"unsafe file name {name!r}")
    dest_real = dest_real or dest.resolve()
    target = dest_real / name
    if os.path.islink(target) and Path(os.path.realpath(target)).parent != dest_real:
        raise ValueError(f"file name {name!r} leaves the data directory")
    return target


#: a response body larger than this is refused (the reader's limit for one .trc)
MAX_BODY_BYTES = MAX_TRC_BYTES
#: a file that takes longer than this to arrive (a server trickling bytes) is given up
DEADLINE_S = 300.0


def _why_not(body: bytes, name: str, read: ReadSettings) -> str | None:
    """Why downloaded bytes are not one complete file of their format (checked in memory,
    so that a file on disk is always complete and valid); None when they are."""
    if not read.format and name.endswith(".trc"):
        try:
            check_bytes(body, name)
            return None
        except TrcError as exc:
            return exc.reason
    return incomplete(body, name, read)


def _write(body: bytes, tmp: Path, target: Path) -> str | None:
    """Write ``body`` to ``target`` atomically (``tmp``, then a rename); the reason if not."""
    try:
        with open(tmp, "wb") as f:
            f.write(body)
        os.replace(tmp, target)
        return None
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            return f"disk full: cannot write {target.name}"
        return f"cannot write {target.name}: {exc.strerror}"
    finally:
        tmp.unlink(missing_ok=True)


def _lean_get(lean: LeanGet, url: str, timeout, max_bytes: int, deadline_s: float,
              watchdog: Watchdog) -> tuple[bytes | None, bool]:
    """(body or None, whether the deadline passed) of :meth:`LeanGet.get`, its socket
    watched like urllib3's."""
    watched: list = []

    def started(conn) -> None:
        watched.append((conn, watchdog.watch(conn, deadline_s)))

    body = lean.get(url, timeout_pair(timeout), max_bytes, started)
    for conn, _ in watched:
        watchdog.done(conn)
    return body, any(flag.is_set() for _, flag in watched)


def _download(client: Client, url: str, target: Path, timeout, attempts: int = 4,
              deadline_s: float = DEADLINE_S, max_bytes: int = MAX_BODY_BYTES,
              watchdog: Watchdog | None = None, read: ReadSettings = DEFAULT_READ
              ) -> str | None:
    """Download ``url`` to ``target`` atomically. Returns None or the failure reason.

    urllib3's Retry covers connection errors, timeouts and bad statuses (with backoff); a
    body that breaks off or does not parse as a .trc file is retried here. The body is
    read in 1 MB pieces (never more than ``max_bytes`` in memory) and checked as a .trc
    before it is written; a download still running after ``deadline_s`` seconds is given
    up (a watchdog shuts the socket down)."""
    from urllib3.exceptions import (
        ConnectTimeoutError,
        HTTPError,
        MaxRetryError,
        NameResolutionError,
        NewConnectionError,
        ProtocolError,
        ReadTimeoutError,
        ResponseError,
        SSLError,
    )

    own = watchdog is None
    watchdog = watchdog or Watchdog()
    reason = "not attempted"
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.part")
    try:
        if client.lean is not None:  # the plain case, lean; anything else: urllib3 below
            body, late = _lean_get(client.lean, url, timeout, max_bytes, deadline_s,
                                   watchdog)
            if late:
                return f"timed out (not complete after {deadline_s:g} s)"
            if body is not None and _why_not(body, target.name, read) is None:
                return _write(body, tmp, target)
        for attempt in range(attempts):
            late = None
            resp = None
            try:
                resp = client.get(url, timeout)
                if resp.status != 200:
                    # urllib3 has already retried 429/5xx with backoff; 404, 403: permanent
                    return f"HTTP {resp.status}"
                expected = resp.headers.get("Content-Length")
                if expected is not None and expected.isdigit() and int(expected) > max_bytes:
                    return f"too large ({expected} bytes; at most {max_bytes})"
                late = watchdog.watch(resp, deadline_s)
                parts, n = [], 0
                while True:
                    chunk = resp.read(1 << 20)
                    if not chunk:
                        break
                    n += len(chunk)
                    if n > max_bytes:
                        return f"too large (more than {max_bytes} bytes)"
                    parts.append(chunk)
                watchdog.done(resp)
                if late.is_set():
                    return f"timed out (not complete after {deadline_s:g} s)"
                # Content-Length counts the bytes sent: with a Content-Encoding (gzip)
                # urllib3 hands over more, decoded; the .trc check below still sees a
                # short body
                encoded = resp.headers.get("Content-Encoding", "identity").lower() \
                    not in ("", "identity")
                if not encoded and expected is not None and expected.isdigit() \
                        and int(expected) != n:
                    reason = f"truncated body ({n} of {expected} bytes)"
                    continue
                body = b"".join(parts)
                why = _why_not(body, target.name, read)
                if why is not None:
                    reason = f"downloaded bytes are not a complete file ({why})"
                    time.sleep(0.2 * 2**attempt)
                    continue
                return _write(body, tmp, target)
            except MaxRetryError as exc:  # after urllib3's retries
                if late is not None and late.is_set():
                    return f"timed out (not complete after {deadline_s:g} s)"
                # the name, then the connection, then TLS: each says what to fix
                if isinstance(exc.reason, NameResolutionError):
                    return ("DNS failure (the host name does not resolve: "
                            f"{urlparse(url).hostname})")
                if isinstance(exc.reason, SSLError):
                    text = str(exc.reason)
                    if "CERTIFICATE_VERIFY_FAILED" in text:
                        why = ("certificate not trusted; is the CA bundle there? "
                               "REQUESTS_CA_BUNDLE names one")
                    else:
                        why = text.split(":")[-1].strip(" ')\"")[:80]
                    return f"TLS failure ({why})"
                # NewConnectionError first: urllib3 2.x makes it a ConnectTimeoutError
                if isinstance(exc.reason, NewConnectionError):
                    return "connection error (refused: nothing answers at that address)" \
                        if "refused" in str(exc.reason).lower() else \
                        "connection error (cannot connect: " \
                        f"{str(exc.reason).split(':')[-1].strip()[:80]})"
                if isinstance(exc.reason, ResponseError) and "redirect" in \
                        str(exc.reason).lower():
                    return "too many redirects (a redirect loop at the server?)"
                if isinstance(exc.reason, (ConnectTimeoutError, ReadTimeoutError)):
                    return "timed out"
                text = str(exc.reason).lower()
                return "connection error" + (" (connection reset)" if "reset" in text
                                             else "")
            except (ProtocolError, ReadTimeoutError, HTTPError, AttributeError, ValueError
                    ) as exc:
                if late is not None and late.is_set():
                    return f"timed out (not complete after {deadline_s:g} s)"
                if isinstance(exc, ReadTimeoutError):
                    return "timed out"
                reason = "truncated body (the connection broke while reading it)"
            except OSError:  # a socket error urllib3 did not wrap: try again
                reason = "connection error"
            finally:
                if resp is not None:
                    watchdog.done(resp)
                    resp.release_conn()
            time.sleep(0.2 * 2**attempt)
        return reason
    finally:
        if own:
            watchdog.close()


def _expand(point: PointSpec, present: set[str]) -> list[str]:
    """The first ``n_files`` names of the directory that the line's ``files=`` names or
    patterns match, sorted; a pattern's missing matches are named ``<pattern>#<i>``
    (reported missing, so that the summary counts every file the line promised)."""
    out: list[str] = []
    for n in point.files:
        if is_pattern(n):
            hidden = n.startswith(".")  # like a shell's glob: dotfiles only when asked
            out += sorted(m for m in fnmatch.filter(present, n)
                          if (hidden or not m.startswith(".")) and not os.path.isdir(
                              os.path.join(_local_source(point.dir_url), m)))
        else:
            out.append(n)
    out = list(dict.fromkeys(out))[:point.n_files]
    return out + [f"{point.files[-1]}#{i}" for i in range(len(out), point.n_files)]


def fetch_point(
    point: PointSpec,
    dest: str | os.PathLike | None,
    *,
    session=None,
    workers: int = DEFAULT_WORKERS,
    timeout=DEFAULT_TIMEOUT,
    on_file: Callable[[str, str], None] | None = None,
) -> FetchReport:
    """Make the point's files available under ``dest`` (remote) or in place (local).

    ``on_file(name, outcome)`` is called per file with outcome ``fetched``, ``cached`` or
    the failure reason (for ``--verbose`` logs and progress bars). A local ``dir_url``
    that is not a directory raises ``FileNotFoundError`` naming it. Files in ``dest`` are
    reused only when they came from this ``dir_url`` (its source file says so); the
    folder is locked while this runs.
    """
    names = point.file_names()
    rep = FetchReport()
    if not is_remote(point.dir_url):
        src = _local_source(point.dir_url)
        src_s = os.fspath(src)
        if not src.is_dir():  # one reason, not one "missing" per file
            raise FileNotFoundError(f"{src_s}: no such directory" if not src.exists()
                                    else f"{src_s}: not a directory")
        # one directory listing instead of a stat per file; names only: a bad entry (a
        # symlink loop, an unreadable link) is named by the reader, the others are fine
        present = listing(src)
        if point.files and any(is_pattern(n) for n in point.files):
            names = _expand(point, present)
        prefix = os.path.join(src_s, "")  # str concatenation: pathlib costs 15 us a file
        rep.paths = [prefix + n for n in names if n in present]
        rep.cached = len(rep.paths)
        if len(rep.paths) < len(names):
            rep.failed = [(n, "missing") for n in names if n not in present]
        if on_file:
            for name in names:
                on_file(name, "cached" if name in present else "missing")
        return rep
    assert dest is not None, "a remote point needs a local data directory"
    d = Path(dest)
    d.mkdir(parents=True, exist_ok=True)
    with FolderLock(d):
        return _fetch_remote(point, d, names, rep, session, workers, timeout, on_file)


def _fetch_remote(point: PointSpec, d: Path, names: list[str], rep: FetchReport, session,
                  workers: int, timeout, on_file) -> FetchReport:
    results: dict[str, tuple[Path | None, str]] = {}
    read = read_settings(point)
    # files already here (a re-run from the same dir_url): checked in this thread, one
    # directory listing and a header read each; handing them to the download threads cost
    # ~0.5 ms per file in lock contention (measured), 30x the check itself
    present = trusted_cache(d, point.dir_url)
    todo = []
    for name in names:
        if name in present and is_complete(d / name, read):
            results[name] = (d / name, "cached")
            if on_file:
                on_file(name, "cached")
        else:
            todo.append(name)
    if todo:
        _download_all(point, d, todo, results, session, workers, timeout, on_file, read)
    for name in names:
        path, outcome = results[name]
        if path is None:
            rep.failed.append((name, outcome))
        else:
            rep.paths.append(path)
            if outcome == "cached":
                rep.cached += 1
            else:
                rep.fetched += 1
    return rep


def _download_all(point: PointSpec, d: Path, names: list[str], results: dict, session,
                  workers: int, timeout, on_file, read: ReadSettings) -> None:
    """Download ``names`` into ``d`` with ``workers`` threads; outcomes into ``results``."""
    own = session is None
    session = session or make_session(pool=max(workers, 1))
    lock = threading.Lock()
    watchdog = Watchdog()
    d_real = d.resolve()  # once: a resolve per file cost ~30 us of the GIL

    def one(name: str) -> None:
        try:
            target = _safe_target(d, name, d_real)
        except ValueError as exc:
            out = (None, str(exc))
        else:  # files already here were found by the calling thread
            err = _download(session, point.dir_url + name, target, timeout,
                            watchdog=watchdog, read=read)
            out = (target, "fetched") if err is None else (None, err)
        with lock:
            results[name] = out
        if on_file:
            on_file(name, out[1])

    try:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(names)))) as pool:
            list(pool.map(one, names))
    finally:
        watchdog.close()
        if own:
            session.close()
