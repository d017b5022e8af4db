"""Fetching from a real HTTP server on loopback, with faults injected."""

import http.server
import threading
import time

import pytest

from pmtgain.config import PointSpec
from pmtgain.io.fetch import (
    LOCK_FILE,
    SOURCE_FILE,
    _safe_target,
    fetch_point,
    is_complete,
    is_transient,
)
from pmtgain.sim.demo import serve
from pmtgain.sim.simulate import DEMO_PMTS, write_point


class FaultServer:
    """Serves ``files`` under /<mode>/<name>; the mode decides what goes wrong."""

    def __init__(self, files: dict[str, bytes], slow_s: float = 1.5):
        self.files = files
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                _, mode, name = self.path.split("/", 2)
                with outer.lock:
                    n = outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                body = outer.files.get(name)
                if body is None or mode == "missing":
                    return self._send(404, b"no such key")
                if mode == "flaky500" and n <= 2:
                    return self._send(500, b"internal error")
                if mode == "status503" and n <= 1:
                    return self._send(503, b"busy")
                if mode == "retryafter":  # down for an hour, it says
                    self.send_response(503)
                    self.send_header("Retry-After", "3600")
                    self.send_header("Content-Length", "4")
                    self.end_headers()
                    self.wfile.write(b"busy")
                    return
                if (mode == "reset" and n <= 1) or mode == "alwaysreset":
                    self.connection.shutdown(2)  # connection reset, no response
                    self.close_connection = True
                    return
                if (mode == "trunc" and n <= 2) or mode == "alwaystrunc":
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if mode == "gzip":  # compressed whatever the client asked for
                    import gzip

                    z = gzip.compress(body)
                    self.send_response(200)
                    self.send_header("Content-Encoding", "gzip")
                    self.send_header("Content-Length", str(len(z)))
                    self.end_headers()
                    self.wfile.write(z)
                    return
                if mode == "loop":  # a redirect to itself, for ever
                    self.send_response(302)
                    self.send_header("Location", self.path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if mode == "slow":
                    time.sleep(slow_s)
                return self._send(200, body)

            def _send(self, code, body):
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        url, self.server = serve(H)
        self.url = url.rstrip("/")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("src")
    write_point(d, DEMO_PMTS[0], 1000, 6)
    return {p.name: p.read_bytes() for p in sorted(d.glob("*.trc"))}


@pytest.fixture
def server(files):
    s = FaultServer(files)
    yield s
    s.close()


def _point(server, mode, n=6):
    return PointSpec(pmt=1, hv=1000, n_files=n, dir_url=f"{server.url}/{mode}/")


@pytest.mark.parametrize("mode", ["ok", "flaky500", "status503", "reset", "trunc"])
def test_transient_faults_are_retried_and_the_files_are_correct(tmp_path, server, files,
                                                                mode):
    rep = fetch_point(_point(server, mode), tmp_path, workers=3, timeout=(2, 5))
    assert rep.failed == [] and rep.fetched == 6 and rep.cached == 0
    for p in rep.paths:
        assert p.read_bytes() == files[p.name]
    assert not list(tmp_path.glob(".*part"))


@pytest.mark.parametrize("mode,reason", [("missing", "HTTP 404"), ("slow", "timed out"),
                                         ("alwaystrunc", "truncated"),
                                         ("alwaysreset", "connection")])
@pytest.mark.slow
def test_permanent_faults_are_reported_and_nothing_corrupt_is_kept(tmp_path, server, mode,
                                                                   reason):
    rep = fetch_point(_point(server, mode, 2), tmp_path, workers=2, timeout=(1, 0.4))
    assert rep.fetched == 0 and len(rep.failed) == 2
    assert all(reason in r for _, r in rep.failed), rep.failed
    left = [p.name for p in tmp_path.iterdir() if p.name not in (SOURCE_FILE, LOCK_FILE)]
    assert left == []  # no partial or corrupt file left behind


def test_complete_files_are_skipped_and_partial_ones_fetched_again(tmp_path, server, files):
    names = sorted(files)
    fetch_point(_point(server, "ok", 1), tmp_path, workers=2)  # the first file, complete
    server.hits.clear()
    (tmp_path / names[1]).write_bytes(files[names[1]][:300])  # partial: fetched again
    rep = fetch_point(_point(server, "ok"), tmp_path, workers=2)
    assert (rep.cached, rep.fetched) == (1, 5)
    assert f"/ok/{names[0]}" not in server.hits
    assert (tmp_path / names[1]).read_bytes() == files[names[1]]
    again = fetch_point(_point(server, "ok"), tmp_path, workers=2)
    assert (again.cached, again.fetched) == (6, 0)


def test_names_cannot_escape_the_data_directory(tmp_path):
    for bad in ("../evil.trc", "/etc/passwd", "a/../../b", ".hidden", ""):
        with pytest.raises(ValueError):
            _safe_target(tmp_path, bad)
    assert _safe_target(tmp_path, "C1--n16deg--00001.trc").parent == tmp_path.resolve()


def test_local_directories_are_used_in_place(tmp_path, files):
    for name, body in list(files.items())[:3]:
        (tmp_path / name).write_bytes(body)
    pt = PointSpec(pmt=1, hv=1000, n_files=4, dir_url=f"file://{tmp_path}/")
    rep = fetch_point(pt, None)
    assert rep.cached == 3 and rep.failed == [("C1--n16deg--00003.trc", "missing")]
    assert all(is_complete(p) for p in rep.paths)


def test_credentials_come_from_the_environment_and_never_reach_reasons(tmp_path, server,
                                                                       monkeypatch):
    monkeypatch.setenv("PMTGAIN_HTTP_TOKEN", "s3cr3t-token")
    rep = fetch_point(_point(server, "missing", 1), tmp_path)
    assert "s3cr3t" not in repr(rep.failed)


@pytest.mark.slow
def test_22_19_a_redirect_loop_and_a_refused_connection_say_what_they_are(tmp_path, server):
    import socket

    rep = fetch_point(_point(server, "loop", 1), tmp_path / "a", workers=1, timeout=(1, 2))
    assert rep.failed and "redirect" in rep.failed[0][1], rep.failed
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pt = PointSpec(pmt=1, hv=1000, n_files=1, dir_url=f"http://127.0.0.1:{port}/x/")
    rep = fetch_point(pt, tmp_path / "b", workers=1, timeout=(1, 2))
    reason = rep.failed[0][1]
    assert "refused" in reason and "timed out" not in reason, reason
    assert is_transient(reason)  # the server may come back


def test_22_9_a_gzip_encoded_body_is_accepted(tmp_path, server, files):
    """Content-Length counts the encoded bytes: the decoded body is not 'truncated'."""
    rep = fetch_point(_point(server, "gzip", 2), tmp_path, workers=1, timeout=(1, 2))
    assert not rep.failed, rep.failed
    assert [p.read_bytes() for p in rep.paths] == [files[p.name] for p in rep.paths]


@pytest.fixture(scope="module")
def other_files(tmp_path_factory):
    """Files of the same names as ``files`` with other contents (PMT 2's pulses)."""
    d = tmp_path_factory.mktemp("src2")
    write_point(d, DEMO_PMTS[1], 1000, 6, seed=5)
    return {p.name: p.read_bytes() for p in sorted(d.glob("*.trc"))}


def test_22_1_a_corrected_dir_url_fetches_its_own_files_not_the_cached_ones(
        tmp_path, files, other_files):
    """The cache is keyed by the folder and the HV only; the source file says which
    dir_url its files came from, and files of another one are never reused."""
    a, b = FaultServer(files), FaultServer(other_files)
    try:
        pa = PointSpec(pmt=1, hv=1000, n_files=6, dir_url=f"{a.url}/ok/")
        pb = PointSpec(pmt=1, hv=1000, n_files=6, dir_url=f"{b.url}/ok/")
        assert fetch_point(pa, tmp_path, workers=2).fetched == 6
        rep = fetch_point(pb, tmp_path, workers=2)
        assert (rep.fetched, rep.cached) == (6, 0)
        assert [p.read_bytes() for p in rep.paths] == [other_files[p.name] for p in rep.paths]
        assert fetch_point(pb, tmp_path, workers=2).cached == 6  # and reused from now on
        # a failing source leaves none of the other source's files behind to be reused
        pc = PointSpec(pmt=1, hv=1000, n_files=6, dir_url=f"{a.url}/missing/")
        assert len(fetch_point(pc, tmp_path, workers=2).failed) == 6
        assert not list(tmp_path.glob("*.trc"))
    finally:
        a.close()
        b.close()


def test_22_1_files_of_unknown_origin_in_the_folder_are_not_published(tmp_path, server,
                                                                      files, other_files):
    """A folder filled by hand or by an older pmtgain (no source file) is fetched
    again from the point's dir_url."""
    for name, body in other_files.items():
        (tmp_path / name).write_bytes(body)
    rep = fetch_point(_point(server, "ok"), tmp_path, workers=2)
    assert (rep.fetched, rep.cached) == (6, 0)
    assert [p.read_bytes() for p in rep.paths] == [files[p.name] for p in rep.paths]
    # kept aside, not lost (a mirror used offline, say)
    kept = {p.name: p.read_bytes() for p in (tmp_path / ".unverified").iterdir()}
    assert kept == other_files


def _fetch_into(point, d):
    return fetch_point(point, d, workers=3)


def test_22_1_two_processes_fetching_into_one_folder_take_turns(tmp_path, files,
                                                                other_files):
    """Concurrent fetches of two sources into the same folder never leave a mixture."""
    import concurrent.futures as cf

    a, b = FaultServer(files, slow_s=0.05), FaultServer(other_files, slow_s=0.05)
    try:
        pts = [PointSpec(pmt=1, hv=1000, n_files=6, dir_url=f"{s.url}/slow/")
               for s in (a, b)]
        with cf.ProcessPoolExecutor(2) as ex:
            reps = list(ex.map(_fetch_into, pts, [tmp_path] * 2))
        last = {p.name: p.read_bytes() for p in sorted(tmp_path.glob("*.trc"))}
        assert last in (files, other_files)
        assert all(not r.failed for r in reps)
    finally:
        a.close()
        b.close()


def test_22_7_a_retry_after_of_an_hour_is_capped(tmp_path, server, monkeypatch):
    """urllib3 sleeps Retry-After before any deadline applies: capped, the file fails
    as a transient 503 after the retries instead of hours later."""
    from pmtgain.io import http as httpclient


    retry = httpclient._capped_retry()(total=1, respect_retry_after_header=True)

    class Resp:
        headers = {"Retry-After": "3600"}

    assert retry.get_retry_after(Resp()) == httpclient.RETRY_AFTER_MAX_S <= 60
    monkeypatch.setattr(httpclient, "RETRY_AFTER_MAX_S", 0.05)
    t0 = time.monotonic()
    rep = fetch_point(_point(server, "retryafter", 1), tmp_path, workers=1, timeout=(1, 2))
    assert time.monotonic() - t0 < 60  # an hour per retry without the cap
    assert rep.failed and rep.failed[0][1] == "HTTP 503" and is_transient("HTTP 503")
    assert server.hits["/retryafter/C1--n16deg--00000.trc"] >= 5  # it did retry


@pytest.mark.slow
def test_23_4_dns_and_tls_failures_are_named_apart(tmp_path):
    """A name that does not resolve, and a server whose certificate is not trusted: each
    says what it is (and a TLS failure is not retried as if the network might heal)."""
    import shutil
    import ssl
    import subprocess

    pt = PointSpec(pmt=1, hv=1000, n_files=1, dir_url="http://no-such-host.invalid/x/")
    reason = fetch_point(pt, tmp_path / "a", workers=1, timeout=(2, 2)).failed[0][1]
    assert reason.startswith("DNS failure") and "no-such-host.invalid" in reason, reason
    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make a self-signed certificate")
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True)

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        pt = PointSpec(pmt=1, hv=1000, n_files=1,
                       dir_url=f"https://127.0.0.1:{srv.server_address[1]}/x/")
        reason = fetch_point(pt, tmp_path / "b", workers=1, timeout=(2, 2)).failed[0][1]
        assert reason.startswith("TLS failure") and "CA bundle" in reason, reason
        assert not is_transient(reason)
    finally:
        srv.shutdown()
        srv.server_close()


def test_a_local_pattern_takes_the_first_n_files_and_counts_the_missing(tmp_path):
    import numpy as np

    for i in (3, 1, 2):
        np.save(tmp_path / f"run{i}.npy", np.zeros((2, 10), np.int8))
    (tmp_path / "notes.txt").write_text("x")
    pt = PointSpec(pmt=1, hv=1000, n_files=2, dir_url=f"{tmp_path}/", files=("run*.npy",))
    rep = fetch_point(pt, None)
    assert [p.rsplit("/", 1)[1] for p in rep.paths] == ["run1.npy", "run2.npy"]
    pt = PointSpec(pmt=1, hv=1000, n_files=5, dir_url=f"{tmp_path}/", files=("run*.npy",))
    rep = fetch_point(pt, None)
    assert len(rep.paths) == 3 and rep.failed == [("run*.npy#3", "missing"),
                                                  ("run*.npy#4", "missing")]


def test_other_formats_download_and_are_checked_in_their_format(tmp_path):
    import numpy as np

    from pmtgain.sim.demo import serve_directory

    src = tmp_path / "src"
    src.mkdir()
    np.save(src / "a.npy", np.zeros((3, 10), np.int8))
    (src / "b.npy").write_bytes((src / "a.npy").read_bytes()[:60])  # cut short
    url, srv = serve_directory(src)
    try:
        pt = PointSpec(pmt=1, hv=1000, n_files=2, dir_url=url, files=("a.npy", "b.npy"),
                       read=(("dt_ns", "1"), ("volts_per_code", "0.001")))
        rep = fetch_point(pt, tmp_path / "data", workers=2, timeout=(2, 5))
    finally:
        srv.shutdown()
        srv.server_close()
    assert [p.name for p in rep.paths] == ["a.npy"]
    assert rep.failed[0][0] == "b.npy" and "not a complete file" in rep.failed[0][1]
    assert not (tmp_path / "data" / "b.npy").exists()
