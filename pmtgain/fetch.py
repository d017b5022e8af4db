"""Fetch the files of a point: HTTP(S) with retries, or local paths as they are.

What to use when
----------------
- :func:`fetch_point` - make every file of a point available locally; returns the local
  paths, the files that failed (with a reason) and the counts fetched / cached / failed.
- :func:`make_session` - a :class:`Client` (urllib3) with connection reuse, timeouts and
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
from .trc import MAX_TRC_BYTES, TrcError, check_bytes, read_header

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


class Client:
    """urllib3 directly: connection reuse, urllib3 ``Retry`` (connection errors, 429 and
    5xx, exponential backoff), credentials from the environment or the URL (sent as a
    header, the URL without them). ``requests`` costs ~1.5 ms of CPU per request under
    the GIL, which capped 32 download threads at ~12x sequential on a 20 ms store
    (``bench/bench_fetch.py``); urllib3 alone reaches ~25x."""

    def __init__(self, retries: int = 5, backoff: float = 0.2, pool: int = 16):
        import urllib3
        from urllib3.util.retry import Retry

        retry = Retry(
            total=retries, connect=retries, read=retries, status=retries, other=retries,
            backoff_factor=backoff, status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"GET"}), raise_on_status=False,
            respect_retry_after_header=True,
        )
        self.headers: dict[str, str] = {}
        token = os.environ.get("PMTGAIN_HTTP_TOKEN")
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        elif os.environ.get("PMTGAIN_HTTP_USER"):
            self.headers.update(urllib3.util.make_headers(basic_auth=(
                f"{os.environ['PMTGAIN_HTTP_USER']}:"
                f"{os.environ.get('PMTGAIN_HTTP_PASSWORD', '')}")))
        ca = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        kw = dict(num_pools=8, maxsize=pool, retries=retry, headers=self.headers)
        if ca:
            kw["ca_certs"] = ca
        proxy = os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy") or \
            os.environ.get("HTTP_PROXY") or os.environ.get("http_proxy")
        self.pm = urllib3.ProxyManager(proxy, **kw) if proxy else urllib3.PoolManager(**kw)

    def get(self, url: str, timeout):
        """A streaming GET (``preload_content=False``); credentials in the URL become a
        basic-auth header."""
        import urllib3

        headers = None
        u = urlparse(url)
        if u.username is not None:
            headers = dict(self.headers)
            headers.update(urllib3.util.make_headers(
                basic_auth=f"{unquote(u.username)}:{unquote(u.password or '')}"))
            url = u._replace(netloc=u.netloc.rsplit("@", 1)[1]).geturl()
        t = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        return self.pm.request("GET", url, headers=headers, preload_content=False,
                               timeout=urllib3.Timeout(connect=t[0], read=t[1]))

    def close(self) -> None:
        self.pm.clear()


def make_session(retries: int = 5, backoff: float = 0.2, pool: int = 16) -> Client:
    """A :class:`Client`; pass one to :func:`fetch_point` to reuse it across points."""
    return Client(retries, backoff, pool)


class _Watchdog:
    """One thread for every download of a run: a response still open after its deadline
    has its socket shut down (a server trickling bytes is given up)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items: dict[int, tuple[float, object, threading.Event]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.wait(0.25):
            now = time.monotonic()
            with self.lock:
                late = [(k, v) for k, v in self.items.items() if v[0] < now]
                for k, _ in late:
                    del self.items[k]
            for _, (_, resp, flag) in late:
                flag.set()
                _shutdown(resp)

    def watch(self, resp, seconds: float) -> threading.Event:
        flag = threading.Event()
        with self.lock:
            self.items[id(resp)] = (time.monotonic() + seconds, resp, flag)
        return flag

    def done(self, resp) -> None:
        with self.lock:
            self.items.pop(id(resp), None)

    def close(self) -> None:
        self.stop.set()


def _is_remote(url: str) -> bool:
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


def _shutdown(resp) -> None:
    """Wake a read blocked in another thread: shut the response's socket down (closing
    the file object alone does not interrupt a blocked recv on Linux)."""
    import socket

    for get in (lambda r: r.connection.sock, lambda r: r._fp.fp.raw._sock):
        try:
            get(resp).shutdown(socket.SHUT_RDWR)
            break
        except (AttributeError, OSError):
            continue
    try:
        resp.close()
    except Exception:  # noqa: BLE001 - best effort from a watchdog thread
        pass


def _download(client: Client, url: str, target: Path, timeout, attempts: int = 4,
              deadline_s: float = DEADLINE_S, max_bytes: int = MAX_BODY_BYTES,
              watchdog: _Watchdog | None = None) -> str | None:
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
        ProtocolError,
        ReadTimeoutError,
    )

    own = watchdog is None
    watchdog = watchdog or _Watchdog()
    reason = "not attempted"
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.part")
    try:
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
                if expected is not None and expected.isdigit() and int(expected) != n:
                    reason = f"truncated body ({n} of {expected} bytes)"
                    continue
                body = b"".join(parts)
                try:  # checked in memory: a file on disk is always complete and valid
                    check_bytes(body, target.name)
                except TrcError:
                    reason = "downloaded bytes are not a complete .trc file"
                    time.sleep(0.2 * 2**attempt)
                    continue
                with open(tmp, "wb") as f:
                    f.write(body)
                os.replace(tmp, target)
                return None
            except MaxRetryError as exc:  # after urllib3's retries
                if late is not None and late.is_set():
                    return f"timed out (not complete after {deadline_s:g} s)"
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
            except OSError as exc:
                if exc.errno == errno.ENOSPC:
                    return f"disk full: cannot write {target.name}"
                reason = f"cannot write {target.name}: {exc.strerror}"
                break
            finally:
                if resp is not None:
                    watchdog.done(resp)
                    resp.release_conn()
                tmp.unlink(missing_ok=True)
            time.sleep(0.2 * 2**attempt)
        return reason
    finally:
        if own:
            watchdog.close()


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
    watchdog = _Watchdog()
    d_real = d.resolve()  # once: a resolve per file cost ~30 us of the GIL

    def one(name: str) -> None:
        try:
            target = _safe_target(d, name, d_real)
        except ValueError as exc:
            out = (None, str(exc))
        else:  # files already here were found by the calling thread
            err = _download(session, point.dir_url + name, target, timeout,
                            watchdog=watchdog)
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
