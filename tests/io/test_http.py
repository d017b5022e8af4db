"""http.py: the lean GET takes only the plain case, on kept-alive connections, and
hands everything else to urllib3 (a real server on loopback that writes raw responses)."""

import socketserver
import tempfile
from pathlib import Path

import numpy as np
import pytest

from pmtgain.io.fetch import _download
from pmtgain.io.http import Client, LeanGet
from pmtgain.io.trcwrite import write_trc
from pmtgain.sim.demo import serve


def _trc_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as d:
        write_trc(Path(d) / "a.trc", -0.01 * np.exp(-np.arange(500) / 40.0), dt_s=1e-10)
        return (Path(d) / "a.trc").read_bytes()


BODY = _trc_bytes()  # real .trc bytes: the downloads below check them


def _answer(path: str) -> bytes:
    """The raw response for ``path``: one plain case and each kind the lean GET refuses."""
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY
    return {
        "/ok": ok,
        "/close": b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n"
                  % len(BODY) + BODY,
        "/http10": b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY,
        "/404": b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno",
        "/redirect": b"HTTP/1.1 302 Found\r\nLocation: /ok\r\nContent-Length: 0\r\n\r\n",
        "/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + b"%x\r\n" % len(BODY) + BODY + b"\r\n0\r\n\r\n",
        "/gzip": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
                 % len(BODY) + BODY,
        "/nolength": b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + BODY,
        "/short": b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY[:10],
        "/garbage": b"SSH-2.0-OpenSSH\r\n\r\n",
    }[path]


class RawServer:
    """Answers every request on a connection with :func:`_answer`; counts connections and
    requests; closes after a response that says so (or a broken one)."""

    def __init__(self):
        self.connections = 0
        self.requests: list[tuple[str, str]] = []  # (path, Authorization header)
        outer = self

        class H(socketserver.StreamRequestHandler):
            def handle(self):
                outer.connections += 1
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    path = line.split()[1].decode()
                    auth = ""
                    while (h := self.rfile.readline()) not in (b"\r\n", b""):
                        if h.lower().startswith(b"authorization:"):
                            auth = h.split(b":", 1)[1].strip().decode()
                    outer.requests.append((path, auth))
                    raw = _answer(path)
                    self.wfile.write(raw)
                    self.wfile.flush()
                    if path in ("/close", "/http10", "/nolength", "/short", "/garbage"):
                        return

        url, self.server = serve(H)
        self.url = url.rstrip("/")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server():
    s = RawServer()
    yield s
    s.close()


def test_a_plain_answer_on_one_kept_alive_connection(server):
    lean = LeanGet({"Authorization": "Bearer t0k"})
    for _ in range(3):
        assert lean.get(server.url + "/ok", (2, 2), 1 << 20) == BODY
    assert server.connections == 1 and len(server.requests) == 3
    assert {a for _, a in server.requests} == {"Bearer t0k"}
    lean.close()


@pytest.mark.parametrize("path", ["/close", "/http10"])
def test_a_connection_the_server_closes_is_opened_again(server, path):
    lean = LeanGet()
    assert lean.get(server.url + path, (2, 2), 1 << 20) == BODY
    assert lean.get(server.url + "/ok", (2, 2), 1 << 20) == BODY
    assert server.connections == 2
    lean.close()


@pytest.mark.parametrize("path", ["/404", "/redirect", "/chunked", "/gzip", "/nolength",
                                  "/short", "/garbage"])
def test_anything_but_the_plain_case_is_left_to_urllib3(server, path):
    lean = LeanGet()
    assert lean.get(server.url + path, (2, 2), 1 << 20) is None
    # the connection it leaves is not reused for the next request
    assert lean.get(server.url + "/ok", (2, 2), 1 << 20) == BODY
    assert server.connections == 2
    lean.close()


def test_limits_credentials_and_proxies_are_left_to_urllib3(server, monkeypatch):
    lean = LeanGet()
    assert lean.get(server.url + "/ok", (2, 2), len(BODY) - 1) is None  # over the limit
    user_url = server.url.replace("http://", "http://me:secret@") + "/ok"
    assert lean.get(user_url, (2, 2), 1 << 20) is None
    assert lean.get("ftp://127.0.0.1/ok", (2, 2), 1 << 20) is None
    assert lean.get(server.url + "/ok\r\nX-Injected: 1", (2, 2), 1 << 20) is None
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    assert Client().lean is None
    monkeypatch.delenv("HTTPS_PROXY")
    assert Client(lean=False).lean is None and Client().lean is not None


@pytest.mark.parametrize("path", ["/redirect", "/chunked"])
def test_a_download_the_lean_get_refuses_goes_through_urllib3(server, tmp_path, path):
    """The lean GET gives up; urllib3 follows the redirect or reads the chunks, and the
    file is written, checked."""
    client = Client(retries=1, backoff=0)
    target = tmp_path / "f.trc"
    assert _download(client, server.url + path, target, (2, 2)) is None
    assert target.read_bytes() == BODY
    first = [path, path, "/ok"] if path == "/redirect" else [path, path]
    assert [p for p, _ in server.requests] == first
    client.close()
