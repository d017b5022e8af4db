"""The HTTP clients of the fetcher (:mod:`pmtgain.io.fetch`): urllib3 with retries, and a lean
HTTP/1.1 GET for the plain case at about a quarter of urllib3's CPU per request.

What to use when
----------------
- :class:`Client` - urllib3: connection reuse, retries with backoff, proxies, credentials.
  Every download that is not the plain case goes through it.
- :class:`LeanGet` - the first attempt of every download (``Client.lean``).
  It handles only the plain case and says so: anything else (an error status, a redirect,
  a chunked or encoded body, a body over the limit, a broken, closed or timed-out
  connection, credentials in the URL) gives ``None``, and the download goes through
  urllib3 with its retries and backoff (:class:`pmtgain.io.fetch.Client`). With a proxy
  configured it is not used at all.

Why it exists: urllib3 over ``http.client`` costs ~0.5 ms of CPU per request on these
machines (most of it parsing headers through the ``email`` package), all of it under the
GIL, so 32 download threads were CPU-bound at ~20x sequential on a 20 ms store; a request
here costs ~0.14 ms (``bench/bench_fetch.py``). Protocol: RFC 9112 (HTTP/1.1 message
syntax: status line, header fields, Content-Length framing, persistent connections).
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
import time
from urllib.parse import unquote, urlparse, urlsplit

__all__ = ["MAX_LINE", "MAX_HEADERS", "timeout_pair", "LeanGet", "token_from_file",
           "RETRY_AFTER_MAX_S", "Client", "Watchdog"]

MAX_LINE = 8192  # bytes of a status or header line
MAX_HEADERS = 100


def timeout_pair(timeout) -> tuple[float, float]:
    """(connect, read) seconds from a number or a pair, as the fetcher's ``timeout``."""
    return tuple(timeout) if isinstance(timeout, tuple) else (timeout, timeout)


class _Conn:
    """One kept-alive connection (``sock``: what the fetch watchdog shuts down)."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.rfile = sock.makefile("rb")

    def close(self) -> None:
        for c in (self.rfile, self.sock):
            try:
                c.close()
            except OSError:
                pass


class LeanGet:
    """GET on one kept-alive connection per (thread, host); see the module docstring.

    ``headers``: sent with every request (the client's credentials header). ``cafile``:
    the CA bundle for https (the system's by default).
    """

    def __init__(self, headers: dict[str, str] | None = None, cafile: str | None = None):
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.cafile = cafile
        self._ctx: ssl.SSLContext | None = None
        self._local = threading.local()
        self._all: set[_Conn] = set()  # every open connection, for close()
        self._lock = threading.Lock()

    def _conn(self, scheme: str, host: str, port: int, timeout: tuple[float, float]
              ) -> _Conn:
        conns = self._local.__dict__.setdefault("conns", {})
        key = (scheme, host, port)
        c = conns.get(key)
        if c is None:
            sock = socket.create_connection((host, port), timeout=timeout[0])
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                if self._ctx is None:
                    self._ctx = ssl.create_default_context(cafile=self.cafile)
                sock = self._ctx.wrap_socket(sock, server_hostname=host)
            c = conns[key] = _Conn(sock)
            with self._lock:
                self._all.add(c)
        c.sock.settimeout(timeout[1])
        return c

    def _drop(self, scheme: str, host: str, port: int) -> None:
        c = self._local.__dict__.get("conns", {}).pop((scheme, host, port), None)
        if c is not None:
            c.close()
            with self._lock:
                self._all.discard(c)

    def get(self, url: str, timeout: tuple[float, float], max_bytes: int,
            started=None) -> bytes | None:
        """The body of a plain 200 answer to GET ``url``, or None (see the module
        docstring). ``started(conn)`` is called once the request is sent (the watchdog
        registers ``conn.sock``)."""
        if any(ch in url for ch in " \r\n\t"):  # never a header of our own making
            return None
        u = urlsplit(url)
        if u.scheme not in ("http", "https") or u.username is not None or not u.hostname:
            return None
        port = u.port or (443 if u.scheme == "https" else 80)
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        req = (f"GET {path} HTTP/1.1\r\nHost: {u.netloc}\r\nUser-Agent: pmtgain\r\n"
               f"Accept-Encoding: identity\r\n{self.extra}\r\n").encode("latin-1")
        try:
            c = self._conn(u.scheme, u.hostname, port, timeout)
            c.sock.sendall(req)
            if started is not None:
                started(c)
            body, keep = _read_response(c.rfile, max_bytes)
        except (OSError, ValueError, UnicodeError):
            body, keep = None, False
        if not keep:
            self._drop(u.scheme, u.hostname, port)
        return body

    def close(self) -> None:
        with self._lock:
            for c in self._all:
                c.close()
            self._all.clear()


def _read_response(rfile, max_bytes: int) -> tuple[bytes | None, bool]:
    """(body or None, whether the connection can be used again) of one response."""
    line = rfile.readline(MAX_LINE)
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        return None, False
    status = parts[1]
    length = None
    keep = parts[0] == b"HTTP/1.1"
    plain = True
    for _ in range(MAX_HEADERS):
        h = rfile.readline(MAX_LINE)
        if h in (b"\r\n", b"\n"):
            break
        if not h.endswith(b"\n"):
            return None, False  # broken off, or a line over MAX_LINE
        k, _, v = h.partition(b":")
        k = k.strip().lower()
        v = v.strip()
        if k == b"content-length":
            length = int(v)
        elif k == b"transfer-encoding" or (k == b"content-encoding" and
                                          v.lower() != b"identity"):
            plain = False
        elif k == b"connection":
            keep = v.lower() == b"keep-alive" or (keep and v.lower() != b"close")
    else:
        return None, False
    if status != b"200" or not plain or length is None or not 0 <= length <= max_bytes:
        return None, False  # the body is not read: this connection is done
    body = rfile.read(length)
    if len(body) != length:
        return None, False
    return body, keep


def token_from_file() -> str | None:
    """The bearer token in the file ``PMTGAIN_HTTP_TOKEN_FILE`` names (how a token reaches
    an HTCondor job: the file travels in its input sandbox, the submit file names only the
    file); None without one. A file that cannot be read is an InputError naming it."""
    path = os.environ.get("PMTGAIN_HTTP_TOKEN_FILE")
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip() or None
    except OSError as exc:
        from pmtgain.errors import InputError

        raise InputError(f"PMTGAIN_HTTP_TOKEN_FILE {path}: cannot be read "
                         f"({exc.strerror or exc})") from None


#: the longest a server's ``Retry-After`` is honoured for, per retry (s): 5 retries of a
#: 503 asking for an hour then fail the file within a minute, well inside the per-file
#: deadline (pmtgain.io.fetch.DEADLINE_S), as a transient reason the next run retries
RETRY_AFTER_MAX_S = 10.0


def _capped_retry():
    """urllib3's ``Retry`` with ``Retry-After`` capped at :data:`RETRY_AFTER_MAX_S`
    (urllib3 sleeps the header's time before any deadline of ours applies)."""
    from urllib3.util.retry import Retry

    class CappedRetry(Retry):
        def get_retry_after(self, response):
            after = super().get_retry_after(response)
            return None if after is None else min(after, RETRY_AFTER_MAX_S)

    return CappedRetry


class Client:
    """urllib3 directly: connection reuse, urllib3 ``Retry`` (connection errors, 429 and
    5xx, exponential backoff), credentials from the environment or the URL (sent as a
    header, the URL without them). ``requests`` costs ~1.5 ms of CPU per request under
    the GIL, which capped 32 download threads at ~12x sequential on a 20 ms store
    (``bench/bench_fetch.py``); urllib3 alone reaches ~25x."""

    def __init__(self, retries: int = 5, backoff: float = 0.2, pool: int = 16,
                 lean: bool = True):
        import urllib3

        retry = _capped_retry()(
            total=retries, connect=retries, read=retries, status=retries, other=retries,
            backoff_factor=backoff, status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"GET"}), raise_on_status=False,
            respect_retry_after_header=True,
        )
        self.headers: dict[str, str] = {}
        token = os.environ.get("PMTGAIN_HTTP_TOKEN") or token_from_file()
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
        # the first attempt of a download, where no proxy is in the way (LeanGet)
        self.lean = LeanGet(self.headers, ca) if lean and not proxy else None

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
        t = timeout_pair(timeout)
        return self.pm.request("GET", url, headers=headers, preload_content=False,
                               timeout=urllib3.Timeout(connect=t[0], read=t[1]))

    def close(self) -> None:
        self.pm.clear()
        if self.lean is not None:
            self.lean.close()


class Watchdog:
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


def _shutdown(resp) -> None:
    """Wake a read blocked in another thread: shut the response's socket down (closing
    the file object alone does not interrupt a blocked recv on Linux)."""
    import socket

    for get in (lambda r: r.sock, lambda r: r.connection.sock,
                lambda r: r._fp.fp.raw._sock):
        try:
            get(resp).shutdown(socket.SHUT_RDWR)
            break
        except (AttributeError, OSError):
            continue
    try:
        resp.close()
    except Exception:  # noqa: BLE001 - best effort from a watchdog thread
        pass
