"""Fetch the files of a point: HTTP(S) with retries, or local paths as they are.

What to use when
----------------
- :func:`fetch_point` - make every file of a point available locally; returns the local
  paths, the files that failed (with a reason) and the counts fetched / cached / failed.
- :func:`make_session` - a ``requests.Session`` with connection reuse, timeouts and
  urllib3 ``Retry`` (connection errors, 429 and 5xx, exponential backoff); pass one to
  reuse it across points.
- :func:`is_complete` - a local file counts as present only when it parses as a .trc file
  whose size matches its header.

Guarantees: a download is written to a temporary file and renamed when complete and
valid, so a killed run never leaves a file that looks complete; partial or corrupt files
are fetched again; names are checked so nothing is written outside the data directory.
Credentials for a private bucket come from the environment (``PMTGAIN_HTTP_TOKEN`` for a
bearer token, or ``PMTGAIN_HTTP_USER`` / ``PMTGAIN_HTTP_PASSWORD``) and are never logged:
reasons name only the HTTP status or the kind of network error.
"""

from __future__ import annotations

import errno
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

from .config import PointSpec
from .trc import MAX_TRC_BYTES, TrcError, read_header

log = logging.getLogger("pmtgain.fetch")

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
                      "disk full")


def is_transient(reason: str) -> bool:
    """Whether a fetch failure reason may go away by itself (network, server overload),
    as opposed to a permanent one (404, 403, bad bytes, unsafe name)."""
    return reason.startswith(TRANSIENT_PREFIXES)


def is_complete(path: Path) -> bool:
    try:
        read_header(path)
        return True
    except TrcError:
        return False


def make_session(retries: int = 5, backoff: float = 0.2, pool: int = 16):
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(
        total=retries, connect=retries, read=retries, status=retries, other=retries,
        backoff_factor=backoff, status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}), raise_on_status=False,
        respect_retry_after_header=True,
    )
    s = requests.Session()
    # With trust_env on, requests scans os.environ for proxies on every request (~0.4 ms
    # of CPU per file, measured). Without proxy variables nothing is lost by turning it
    # off; the CA bundle variables are honoured explicitly.
    if not any(k.lower().endswith("_proxy") for k in os.environ):
        s.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") \
            or True
        s.trust_env = False
    adapter = HTTPAdapter(max_retries=retry, pool_connections=pool, pool_maxsize=pool)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    token = os.environ.get("PMTGAIN_HTTP_TOKEN")
    if token:
        s.headers["Authorization"] = f"Bearer {token}"
    elif os.environ.get("PMTGAIN_HTTP_USER"):
        s.auth = (os.environ["PMTGAIN_HTTP_USER"], os.environ.get("PMTGAIN_HTTP_PASSWORD", ""))
    return s


def _is_remote(url: str) -> bool:
    return url.startswith(("http://", "https://"))


def _local_source(url: str) -> Path:
    if url.startswith("file://"):
        return Path(unquote(urlparse(url).path))
    return Path(url)


def _safe_target(dest: Path, name: str) -> Path:
    if not SAFE_NAME.match(name) or name in (".", ".."):
        raise ValueError(f"unsafe file name {name!r}")
    target = (dest / name).resolve()
    if target.parent != dest.resolve():
        raise ValueError(f"file name {name!r} leaves the data directory")
    return target


#: a response body larger than this is refused (the reader's limit for one .trc)
MAX_BODY_BYTES = MAX_TRC_BYTES
#: a file that takes longer than this to arrive (a server trickling bytes) is given up
DEADLINE_S = 300.0


def _shutdown(resp) -> None:
    """Wake a read blocked in another thread: shut the response's socket down (closing
    the file object alone does not interrupt a blocked recv on Linux)."""
    import socket

    try:
        sock = resp.raw._fp.fp.raw._sock
        sock.shutdown(socket.SHUT_RDWR)
    except (AttributeError, OSError):
        pass
    try:
        resp.close()
    except Exception:  # noqa: BLE001 - best effort from a watchdog thread
        pass


def _download(session, url: str, target: Path, timeout, attempts: int = 4,
              deadline_s: float = DEADLINE_S, max_bytes: int = MAX_BODY_BYTES) -> str | None:
    """Download ``url`` to ``target`` atomically. Returns None or the failure reason.

    urllib3's Retry covers connection errors, timeouts and bad statuses (with backoff); a
    body that breaks off or does not parse as a .trc file is retried here. The body is
    streamed to disk (never held in memory), at most ``max_bytes``, and abandoned after
    ``deadline_s`` seconds in all (a watchdog closes the connection)."""
    import requests

    reason = "not attempted"
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.part")
    for attempt in range(attempts):
        late = threading.Event()
        try:
            with session.get(url, timeout=timeout, stream=True) as r:
                if r.status_code != 200:
                    # urllib3 has already retried 429/5xx with backoff; 404, 403: permanent
                    return f"HTTP {r.status_code}"
                expected = r.headers.get("Content-Length")
                if expected is not None and expected.isdigit() and int(expected) > max_bytes:
                    return f"too large ({expected} bytes; at most {max_bytes})"

                def give_up(resp=r, late=late):
                    late.set()
                    _shutdown(resp)

                watchdog = threading.Timer(deadline_s, give_up)
                watchdog.daemon = True
                watchdog.start()
                n = 0
                try:
                    with open(tmp, "wb") as f:
                        for chunk in r.iter_content(1 << 16):
                            n += len(chunk)
                            if n > max_bytes:
                                return f"too large (more than {max_bytes} bytes)"
                            f.write(chunk)
                finally:
                    watchdog.cancel()
            if late.is_set():
                return f"timed out (not complete after {deadline_s:g} s)"
            if expected is not None and expected.isdigit() and int(expected) != n:
                reason = f"truncated body ({n} of {expected} bytes)"
                continue
            if not is_complete(tmp):
                reason = "downloaded bytes are not a complete .trc file"
                tmp.unlink(missing_ok=True)
                time.sleep(0.2 * 2**attempt)
                continue
            os.replace(tmp, target)
            return None
        except requests.exceptions.Timeout:
            return "timed out"  # after urllib3's retries
        except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError,
                AttributeError) as exc:
            if late.is_set():
                return f"timed out (not complete after {deadline_s:g} s)"
            text = str(exc).lower()
            if isinstance(exc, requests.exceptions.ChunkedEncodingError):
                reason = "truncated body (the connection broke while reading it)"
            elif "timed out" in text or "timeout" in text:
                return "timed out"
            else:
                return "connection error" + (" (connection reset)" if "reset" in text else "")
        except requests.exceptions.RequestException as exc:
            reason = type(exc).__name__
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                return f"disk full: cannot write {target.name}"
            reason = f"cannot write {target.name}: {exc.strerror}"
            break
        finally:
            tmp.unlink(missing_ok=True)
        time.sleep(0.2 * 2**attempt)
    return reason


def _listing(d: Path) -> set[str]:
    """The names in directory ``d`` ({} if it cannot be listed)."""
    try:
        with os.scandir(d) as it:
            return {e.name for e in it}
    except OSError:
        return set()


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
    the failure reason (for ``--verbose`` logs and progress bars).
    """
    names = point.file_names()
    rep = FetchReport()
    if not _is_remote(point.dir_url):
        src = _local_source(point.dir_url)
        src_s = os.fspath(src)
        # one directory listing instead of a stat per file; names only: a bad entry (a
        # symlink loop, an unreadable link) is named by the reader, the others are fine
        present = _listing(src)
        for name in names:
            if name in present:
                rep.paths.append(os.path.join(src_s, name))  # str: pathlib costs 15 us
                rep.cached += 1
                if on_file:
                    on_file(name, "cached")
            else:
                rep.failed.append((name, "missing"))
                if on_file:
                    on_file(name, "missing")
        return rep
    assert dest is not None, "a remote point needs a local data directory"
    d = Path(dest)
    d.mkdir(parents=True, exist_ok=True)
    results: dict[str, tuple[Path | None, str]] = {}
    # files already here (a re-run): checked in this thread, one directory listing and a
    # header read each; handing them to the download threads cost ~0.5 ms per file in
    # lock contention (measured), 30x the check itself
    present = _listing(d)
    todo = []
    for name in names:
        if name in present and is_complete(d / name):
            results[name] = (d / name, "cached")
            if on_file:
                on_file(name, "cached")
        else:
            todo.append(name)
    if todo:
        _download_all(point, d, todo, results, session, workers, timeout, on_file)
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
                  workers: int, timeout, on_file) -> None:
    """Download ``names`` into ``d`` with ``workers`` threads; outcomes into ``results``."""
    own = session is None
    session = session or make_session(pool=max(workers, 1))
    lock = threading.Lock()

    def one(name: str) -> None:
        try:
            target = _safe_target(d, name)
        except ValueError as exc:
            out = (None, str(exc))
        else:
            if target.exists() and is_complete(target):
                out = (target, "cached")
            else:
                err = _download(session, point.dir_url + name, target, timeout)
                out = (target, "fetched") if err is None else (None, err)
        with lock:
            results[name] = out
        if on_file:
            on_file(name, out[1])

    try:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(names)))) as pool:
            list(pool.map(one, names))
    finally:
        if own:
            session.close()
