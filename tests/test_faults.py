"""Faults and bad input, on real files, real loopback servers and a real small tmpfs: each
case ends analysed correctly from the files that are fine (the odd ones named), or refused
in one line naming the file or line, never a traceback, a silent wrong number or a lost
result."""

import http.server
import json
import os
import pickle
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pmtgain.io.trcwrite import write_trc
from pmtgain.results.store import load_table, read_json_records, save_table
from pmtgain.sim.demo import serve
from pmtgain.sim.simulate import DEMO_PMTS, simulate_campaign

#: the fault campaigns run the scripts in subprocesses, as users do
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def run(args, cwd, timeout=300, **kw):
    return subprocess.run([PY, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, **kw)


def no_traceback(r):
    assert "Traceback" not in r.stderr + r.stdout, r.stderr[-2000:]


@pytest.fixture
def sim(tmp_path):
    """``pmtgain simulate sim --pmts 1 2 --hv 800 1000 --n 50``, local paths."""
    simulate_campaign(tmp_path / "sim", DEMO_PMTS[:2], hv=[800, 1000], n=50, seed=9)
    return tmp_path


def analysis(cwd, *extra, timeout=300):
    return run([str(ROOT / "analysis.py"), "--data-info", "sim/data_info", "--no-progress",
                "--jobs", "2", *extra], cwd, timeout=timeout)


def start_analysis(cwd, *extra, **popen):
    """analysis.py on the sim campaign in the background (output discarded by default)."""
    popen = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, **popen}
    return subprocess.Popen([PY, str(ROOT / "analysis.py"), "--data-info", "sim/data_info",
                             "--no-progress", *extra], cwd=cwd, **popen)


def point_dir(cwd, pmt=1, hv=1000):
    folder = {1: "PMT_1_2", 2: "PMT_2_2"}[pmt]
    return cwd / "sim" / folder / str(hv) / "Autosave"


def summary(cwd, pmt=1, hv=1000, outputs="outputs"):
    return json.loads((cwd / outputs / "lists" / "points" /
                       f"pmt_{pmt}_{hv}_summary.json").read_text())


# 1 ------------------------------------------------------------------------------------
def test_one_odd_first_file_never_wrecks_the_point(sim):
    d = point_dir(sim)
    write_trc(d / "C1--n16deg--00000.trc", [0.0] * 300, dt_s=1e-10, bits=8,
              vertical_gain=1e-3)
    b = bytearray((d / "C1--n16deg--00001.trc").read_bytes())
    struct.pack_into("<f", b, 11 + 176, 0.0)  # HORIZ_INTERVAL 0 in another file
    (d / "C1--n16deg--00001.trc").write_bytes(bytes(b))
    b = bytearray((d / "C1--n16deg--00002.trc").read_bytes())
    struct.pack_into("<f", b, 11 + 156, float("nan"))  # VERTICAL_GAIN NaN
    (d / "C1--n16deg--00002.trc").write_bytes(bytes(b))
    r = analysis(sim, "--pmt", "1", "--hv", "1000")
    assert r.returncode == 0, r.stderr
    s = summary(sim)
    assert s["n_used"] == 47 and s["rejected_unreadable"] == 3
    assert s["noise_V"] > 0 and s["gain"] > 0 and s["gain_flag"] == ""
    tab = load_table(sim / "outputs/lists/points/pmt_1_1000_flashes.npz")
    bad = tab[tab.status == "unreadable"].set_index("file").reason
    assert "300 samples per segment" in bad["C1--n16deg--00000.trc"]
    assert bad["C1--n16deg--00001.trc"].startswith("HORIZ_INTERVAL is 0.0")
    assert bad["C1--n16deg--00002.trc"].startswith("VERTICAL_GAIN is nan")


# 2 ------------------------------------------------------------------------------------
def test_a_bad_directory_entry_fails_only_itself(sim):
    d = point_dir(sim)
    os.symlink("loop", d / "loop")
    (d / "C1--n16deg--00049.trc").unlink()
    os.symlink(d / "loop", d / "C1--n16deg--00049.trc")  # a file of the point: a loop
    r = analysis(sim, "--pmt", "1", "--hv", "1000")
    assert r.returncode == 0, r.stderr
    s = summary(sim)
    assert s["n_used"] == 49 and s["rejected_unreadable"] == 1


# 3 ------------------------------------------------------------------------------------
def test_a_run_on_some_points_keeps_the_others_in_the_lists(sim):
    assert analysis(sim).returncode == 0
    r = analysis(sim, "--hv", "1000", "--force")
    assert r.returncode == 0, r.stderr
    lst = pd.read_csv(sim / "outputs/lists/pmt_1_data_list.csv")
    assert lst.hv.tolist() == [800, 1000]
    curves = pd.read_csv(sim / "outputs/gain_curves.csv")
    assert curves.n_points.tolist() == [2, 2]


# 4 ------------------------------------------------------------------------------------
class SlowServer:
    """Serves a directory on loopback, ``delay`` seconds per request."""

    def __init__(self, root: Path, delay: float):
        outer_root, d = root, delay

        class H(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw):
                super().__init__(*a, directory=str(outer_root), **kw)

            def log_message(self, *a):
                pass

            def do_GET(self):
                time.sleep(d)
                super().do_GET()

        self.url, self.server = serve(H)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _remote_campaign(cwd: Path, url: str) -> None:
    info = cwd / "sim" / "data_info"
    for f in info.glob("data_directories_pmt_*.txt"):
        lines = []
        for line in f.read_text().splitlines():
            u, *rest = line.split()
            lines.append(" ".join([url + u.split("/sim/", 1)[1], *rest]))
        f.write_text("\n".join(lines) + "\n")


def _children(pid: int) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                stat = (p / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(p.name))
    return out


def test_ctrl_c_stops_within_seconds_keeps_finished_points_and_leaves_no_worker(sim):
    srv = SlowServer(sim / "sim", 0.2)
    try:
        _remote_campaign(sim, srv.url)
        p = start_analysis(sim, "--jobs", "2", "--fetch-workers", "2",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(4)
        workers = _children(p.pid)
        assert workers
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        assert time.monotonic() - t0 < 10
        assert p.returncode == 130, err[-3000:]
        assert "run the same command again" in err and "Traceback" not in err
        time.sleep(0.5)
        assert not [w for w in workers if Path(f"/proc/{w}").exists()]
        assert not list((sim / "outputs").rglob("*.part"))
    finally:
        srv.close()


def test_sigkill_of_the_main_process_leaves_no_orphan(sim):
    srv = SlowServer(sim / "sim", 0.2)
    try:
        _remote_campaign(sim, srv.url)
        p = start_analysis(sim, "--jobs", "2", "--fetch-workers", "1")
        time.sleep(4)
        workers = _children(p.pid)
        assert workers
        p.kill()
        p.wait()
        time.sleep(2)
        assert not [w for w in workers if Path(f"/proc/{w}").exists()]
    finally:
        srv.close()


# 5 ------------------------------------------------------------------------------------
def test_a_second_run_on_the_same_outputs_refuses_in_one_line(sim):
    srv = SlowServer(sim / "sim", 0.2)
    try:
        _remote_campaign(sim, srv.url)
        first = start_analysis(sim, "--fetch-workers", "4")
        time.sleep(3)
        r = analysis(sim, "--force")
        first.wait(timeout=300)
    finally:
        srv.close()
    assert r.returncode == 2
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and "is in use by analysis.py (pid" in err[0], r.stderr
    assert first.returncode == 0


# 6 ------------------------------------------------------------------------------------
@pytest.fixture
def small_tmpfs(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    d = tmp_path / "full"
    d.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(d)],
                       capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    yield d
    subprocess.run(["umount", "-l", str(d)])


def test_a_full_outputs_disk_is_one_line_and_leaves_no_part_file(sim, small_tmpfs):
    # fill the tmpfs, then free room for about one point's results
    subprocess.run(["dd", "if=/dev/zero", f"of={small_tmpfs / 'filler'}", "bs=4k"],
                   capture_output=True)
    os.truncate(small_tmpfs / "filler", (small_tmpfs / "filler").stat().st_size - 40_000)
    r = analysis(sim, "--outputs", str(small_tmpfs / "out"))
    no_traceback(r)
    assert r.returncode != 0
    assert "Logging error" not in r.stderr
    assert "No space left" in r.stderr or "disk is full" in r.stderr
    assert not list(small_tmpfs.rglob("*.part"))


# 7 ------------------------------------------------------------------------------------
def test_writes_stay_under_the_data_dir_whatever_the_url(sim):
    srv = SlowServer(sim / "sim", 0.0)
    try:
        f = sim / "sim/data_info/data_directories_pmt_1.txt"
        lines = f.read_text().splitlines()
        u, *rest = lines[1].split()
        lines[1] = " ".join([srv.url + "PMT_1_2/zz/../1000/Autosave/", *rest])
        lines[1] = lines[1].replace("/Autosave/", "/")
        f.write_text("\n".join(lines[:1] + [lines[1]]) + "\n")
        (sim / "sim/PMT_1_2/1000/C1--n16deg--00000.trc").parent.mkdir(exist_ok=True)
        for p in point_dir(sim).glob("*.trc"):
            os.link(p, sim / "sim/PMT_1_2/1000" / p.name)
        r = analysis(sim, "--pmt", "1", "--data-dir", "dd")
    finally:
        srv.close()
    assert r.returncode == 0, r.stderr
    written = {p.relative_to(sim).parts[0] for p in sim.rglob("*.trc")}
    assert written == {"sim", "dd"}


# 8 ------------------------------------------------------------------------------------
def test_bodies_and_campaigns_have_limits(sim, tmp_path):
    from pmtgain.io.fetch import _download, make_session

    class Huge(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_GET(self):
            self.send_response(200)
            if "trickle" in self.path:  # 16 B/s, never done
                self.send_header("Content-Length", "100000")
                self.end_headers()
                for _ in range(100):
                    self.wfile.write(b"x" * 16)
                    self.wfile.flush()
                    time.sleep(1)
                return
            self.send_header("Content-Length", str(3 << 30))
            self.end_headers()
            self.wfile.write(b"x" * 1000)

    base, srv = serve(Huge)
    s = make_session(retries=0)
    try:
        assert _download(s, base + "huge", tmp_path / "h.trc", 5).startswith("too large")
        t0 = time.monotonic()
        why = _download(s, base + "trickle", tmp_path / "t.trc", 5, deadline_s=2)
        assert why.startswith("timed out (not complete after 2 s)")
        assert time.monotonic() - t0 < 15
    finally:
        srv.shutdown()
        srv.server_close()
        s.close()
    f = sim / "sim/data_info/data_directories_pmt_1.txt"
    f.write_text(f.read_text().replace(" 50 ", " 1000000000 ", 1))
    r = analysis(sim)
    assert r.returncode == 2 and "n_files 1000000000 is outside 1..100000" in r.stderr
    assert f"{f.relative_to(sim)}:1" in r.stderr or f"{f}:1" in r.stderr


# 9 ------------------------------------------------------------------------------------
class Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/pmtgain-pwned",))


def test_results_are_read_as_data_never_unpickled(sim):
    Path("/tmp/pmtgain-pwned").unlink(missing_ok=True)
    assert analysis(sim).returncode == 0
    for d in ("lists", "condor_lists"):
        (sim / "outputs" / d).mkdir(exist_ok=True)
        for name in ("pmt_1_data_list.pkl", "pmt_9_700_data_list.pkl"):
            (sim / "outputs" / d / name).write_bytes(pickle.dumps(Evil()))
    for src in ("lists", "condor_lists"):
        r = run([str(ROOT / "gain_curve.py"), "--source", src], sim)
        no_traceback(r)
    assert not Path("/tmp/pmtgain-pwned").exists()


# 10 -----------------------------------------------------------------------------------
def test_a_password_in_dir_url_is_never_written(sim):
    srv = SlowServer(sim / "sim", 0.0)
    try:
        _remote_campaign(sim, srv.url.replace("http://", "http://alice:s3cr3t@"))
        r = run([str(ROOT / "analysis.py"), "--data-info", "sim/data_info", "--no-progress",
                 "--plots"], sim)
    finally:
        srv.close()
    assert r.returncode == 0, r.stderr
    assert "s3cr3t" not in r.stdout + r.stderr
    for p in (sim / "outputs").rglob("*"):
        if p.is_file() and p.suffix in (".json", ".csv", ".log", ".html", ".pkl"):
            assert b"s3cr3t" not in p.read_bytes(), p


# 11 -----------------------------------------------------------------------------------
def test_transient_failures_are_retried_on_the_next_plain_run(sim):
    class Flaky(http.server.SimpleHTTPRequestHandler):
        fail = True

        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(sim / "sim"), **kw)

        def log_message(self, *a):
            pass

        def do_GET(self):
            if Flaky.fail and self.path.endswith(("1.trc", "3.trc", "5.trc")):
                self.connection.shutdown(2)
                self.close_connection = True
                return
            super().do_GET()

    base, srv = serve(Flaky)
    try:
        _remote_campaign(sim, base)
        r = analysis(sim, "--pmt", "1", "--hv", "800")
        assert summary(sim, 1, 800)["n_used"] < 50
        # said, and not a success while files are missing for a passing reason
        assert r.returncode == 1, r.stderr
        assert "INCOMPLETE PMT 1 at 800 V" in r.stderr and "run the same command" in r.stderr
        Flaky.fail = False
        r = analysis(sim, "--pmt", "1", "--hv", "800")
    finally:
        srv.shutdown()
        srv.server_close()
    assert r.returncode == 0, r.stderr
    assert "may have gone" in r.stdout
    assert summary(sim, 1, 800)["n_used"] == 50


# 12 -----------------------------------------------------------------------------------
def test_no_traceback_for_pipes_targets_and_bad_values(sim, tmp_path):
    trc = next(point_dir(sim).glob("*.trc"))
    for cmd in (f"{PY} -m pmtgain export {trc} --csv /dev/stdout | head -1",
                f"{PY} -m pmtgain inspect {trc} | head -1",
                f"{PY} {ROOT / 'analysis.py'} --data-info sim/data_info --no-progress "
                "| head -1"):
        r = subprocess.run(["bash", "-c", cmd], cwd=sim, capture_output=True, text=True,
                           timeout=300)
        no_traceback(r)
        assert "Exception ignored" not in r.stderr, (cmd, r.stderr)
    cases = [
        (["-m", "pmtgain", "export", str(trc), "--csv", str(tmp_path)], "Is a directory"),
        (["-m", "pmtgain", "export", str(trc), "--csv", "/proc/nope/x.csv"], "error"),
        (["-m", "pmtgain", "simulate", "/dev/null/camp", "--n", "2"], "cannot write"),
        ([str(ROOT / "analysis.py"), "--jobs", "-2"], "is not at least 1"),
    ]
    for args, text in cases:
        r = run(args, sim)
        no_traceback(r)
        assert r.returncode != 0 and text in r.stderr, (args, r.stderr)
    # a corrupt saved summary: the point is redone, no traceback
    assert analysis(sim).returncode == 0
    (sim / "outputs/lists/points/pmt_1_800_summary.json").write_text("{corrupt")
    r = analysis(sim)
    no_traceback(r)
    assert r.returncode == 0 and "4 points done (3 from an earlier run)" in r.stdout


@pytest.mark.parametrize("edit, message", [
    (lambda line: line.replace(" 1000 50 ", " inf 50 "), "pmt/hv out of range"),
    (lambda line: line.replace(" 1000 50 ", " 1000.9 50 "), "is not a whole number of volts"),
    (lambda line: line.rsplit(" ", 1)[0] + " nan", "is not a number of volts"),
    (lambda line: line.rsplit(" ", 1)[0] + " 0.01", "is not below 0 V"),
    (lambda line: line.replace(" 1000 50 ", " 1000 0 "), "n_files 0 is outside"),
    (lambda line: "ftp://host/x/1000/ " + line.split(" ", 1)[1], "only http://"),
    (lambda line: "javascript:alert(1) " + line.split(" ", 1)[1], "only http://"),
])
def test_bad_campaign_lines_are_refused_with_file_and_line(sim, edit, message):
    f = sim / "sim/data_info/data_directories_pmt_1.txt"
    lines = f.read_text().splitlines()
    lines[1] = edit(lines[1])
    f.write_text("\n".join(lines) + "\n")
    r = analysis(sim)
    no_traceback(r)
    assert r.returncode == 2
    assert message in r.stderr and "data_directories_pmt_1.txt:2" in r.stderr, r.stderr


def test_non_utf8_and_empty_campaign_files_are_refused(sim):
    f = sim / "sim/data_info/data_directories_pmt_1.txt"
    f.write_bytes(f.read_bytes() + b"# caf\xe9\n")
    r = analysis(sim)
    assert r.returncode == 2 and "data_directories_pmt_1.txt:3: not UTF-8" in r.stderr
    f.write_text("# nothing here\n")
    r = analysis(sim)
    assert r.returncode == 2 and "no points" in r.stderr
    no_traceback(r)


# 13 -----------------------------------------------------------------------------------
def test_flat_points_are_measured_and_flagged_saturated_ones_fail(sim):
    for i in range(50):
        write_trc(point_dir(sim, 2, 800) / f"C1--n16deg--{i:05d}.trc",
                  [0.0] * 502, dt_s=1e-10, bits=8, vertical_gain=1e-3)
        write_trc(point_dir(sim, 2, 1000) / f"C1--n16deg--{i:05d}.trc",
                  [-5.0] * 502, dt_s=1e-10, bits=8, vertical_gain=1e-3)
    r = analysis(sim)
    assert r.returncode == 1
    # a flat point is a measurement (zero, flagged: every point with a readable flash is
    # measured); one whose every flash is clipped has nothing to measure
    assert "FAILED PMT 2 at 800 V" not in r.stderr
    df = read_json_records(sim / "outputs/lists/pmt_2_data_list.json").set_index("hv")
    assert df.loc[800, "mean_charge"] == 0 and "no LED pulse" in df.loc[800, "point_flag"]
    assert "FAILED PMT 2 at 1000 V" in r.stderr and "clipped" in r.stderr
    no_traceback(r)


def test_a_truncated_saved_table_is_not_a_finished_point(sim):
    assert analysis(sim).returncode == 0
    t = sim / "outputs/lists/points/pmt_1_800_flashes.npz"
    save_table(load_table(t).iloc[:20], t)
    r = analysis(sim)
    assert r.returncode == 0 and "4 points done (3 from an earlier run)" in r.stdout


# --- fault cases, each a test written before its fix ------------------------------


def test_22_4_only_pmt_number_data_lists_are_merged(tmp_path):
    """A kept copy pmt_1_old_data_list.json (or pmt_1-bak_...) is not a PMT's list: it
    neither wins the de-duplication nor fails the merge."""
    from pmtgain.results.gaincurve import collect
    from pmtgain.results.layout import Layout
    from pmtgain.results.store import write_json_records

    lists = tmp_path / "lists"
    lists.mkdir()
    real = pd.DataFrame(dict(pmt=[1, 1], hv=[900, 1000], mean_charge=[-1.0, -2.0],
                             std_dev_charge=[0.1, 0.2]))
    write_json_records(real, lists / "pmt_1_data_list.json")
    write_json_records(real.assign(mean_charge=[-9.0, -9.0]), lists / "pmt_1_old_data_list.json")
    write_json_records(real.assign(mean_charge=[-7.0, -7.0]), lists / "pmt_1-bak_data_list.json")
    df = collect(Layout(tmp_path))
    assert df.mean_charge.tolist() == [-1.0, -2.0]
    assert df.attrs["failed"] == []


def test_22_10_a_byte_order_mark_loses_no_point(tmp_path):
    from pmtgain.io.campaign import load_campaign, load_enf

    (tmp_path / "data_directories_pmt_1.txt").write_bytes(
        "\ufeffhttps://h/b/PMT_1/900/ 1 900 10\nhttps://h/b/PMT_1/1000/ 1 1000 10\n"
        .encode("utf-8"))
    (tmp_path / "enf.txt").write_bytes("\ufeff1 1.25\n".encode("utf-8"))
    pts = load_campaign(tmp_path)
    assert [p.dir_url for p in pts] == ["https://h/b/PMT_1/900/", "https://h/b/PMT_1/1000/"]
    assert load_enf(tmp_path) == {1: 1.25}


def test_22_21_the_point_is_named_once_in_a_failure(tmp_path):
    from pmtgain.config import PointSpec
    from pmtgain.results.layout import Layout
    from pmtgain.run.executors import run_point
    from pmtgain.run.task import Task

    d = tmp_path / "empty"
    d.mkdir()
    out = run_point(PointSpec(pmt=1, hv=1000, n_files=3, dir_url=str(d) + "/",
                              folder="PMT_1"),
                    Task(layout=Layout(tmp_path / "out"), data_dir=tmp_path / "data"))
    assert not out.ok
    assert "PMT 1 at 1000 V" not in out.error, out.error


def test_22_11_gain_curves_are_written_whole_or_not_at_all(tmp_path, monkeypatch):
    """A write that dies half way (a kill, a full disk) leaves the previous
    gain_curves.csv/.png as they were, and no temporary file."""
    from pmtgain.results.store import write_json_records
    from pmtgain.run.pipeline import MergeOptions, merge

    lists = tmp_path / "lists"
    lists.mkdir()
    pts = pd.DataFrame(dict(pmt=1, hv=[900, 1000, 1100], mean_charge=[-1.0, -2.0, -4.0],
                            mean_charge_err=[0.01, 0.02, 0.04], std_dev_charge=0.3,
                            n_used=100, n_files=100))
    write_json_records(pts, lists / "pmt_1_data_list.json")
    quiet = dict(say=lambda s: None, warn=lambda s: None)
    opts = MergeOptions(outputs=tmp_path, source="lists", data_info=str(tmp_path / "none"),
                        progress=False)
    merge(opts, **quiet)
    csv, png = tmp_path / "gain_curves.csv", tmp_path / "gain_curves.png"
    before = csv.read_bytes(), png.read_bytes()

    def dies(self, path, *a, **k):
        with open(path, "w") as f:
            f.write("pmt,n_poi")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", dies)
    with pytest.raises(OSError):
        merge(opts, **quiet)
    assert (csv.read_bytes(), png.read_bytes()) == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


@pytest.mark.parametrize("line, message", [
    ("https://h/b/PMT_1/1000/ 99999999999999999999 1000 10", "out of range"),
    ("https://h/b/PMT_1/1000/ 1 1e300 10", "out of range"),
    ("https://h/b/PMT_1/10\x00/ 1 1000 10", "NUL"),
    ("https://h/b/PMT_1/1000/ 1 1000 " + "x" * 1_000_000, "integers"),
])
def test_22_15_20_absurd_campaign_fields_are_refused_by_line_and_short(tmp_path, line,
                                                                       message):
    from pmtgain.errors import CampaignError
    from pmtgain.io.campaign import parse_campaign_file

    f = tmp_path / "data_directories_pmt_1.txt"
    f.write_text("# header\n" + line + "\n")
    with pytest.raises(CampaignError) as exc:
        parse_campaign_file(f)
    text = str(exc.value)
    assert text.startswith(f"{f}:2: ") and message in text, text[:300]
    assert len(text) < 400


def test_22_20_a_hash_inside_a_path_is_not_a_comment(tmp_path):
    from pmtgain.io.campaign import parse_campaign_file

    f = tmp_path / "data_directories_pmt_1.txt"
    f.write_text("https://h/b/run#2/PMT_1/1000/ 1 1000 10  # a comment\n"
                 "#https://h/b/PMT_1/900/ 1 900 10\n")
    (p,) = parse_campaign_file(f)
    assert p.dir_url == "https://h/b/run#2/PMT_1/1000/" and p.hv == 1000


def _patched_trc(path, field: str, value):
    """A valid 8-bit .trc with one WAVEDESC field changed (little endian)."""
    import numpy as np

    from pmtgain.io.trc import DESC, DESC_FIELDS
    from pmtgain.io.trcwrite import write_trc

    write_trc(path, np.linspace(-0.01, 0.0, 100), dt_s=1e-10, vertical_gain=1e-4)
    buf = bytearray(path.read_bytes())
    o = buf.find(b"WAVEDESC")
    fields = list(DESC["<"].unpack_from(buf, o))
    fields[DESC_FIELDS.index(field)] = value
    DESC["<"].pack_into(buf, o, *fields)
    path.write_bytes(bytes(buf))
    return path


@pytest.mark.parametrize("field, value, message", [
    ("vertical_gain", -1e-4, "VERTICAL_GAIN"),
    ("wave_descriptor", 200, "WAVE_DESCRIPTOR"),
])
def test_22_5_impossible_headers_are_refused_by_both_readers(tmp_path, field, value,
                                                             message):
    """A negative VERTICAL_GAIN (the pulse would turn positive) and a WAVE_DESCRIPTOR
    below the block's 346 bytes (samples read from inside the header): the file is
    refused with its name, by the one-file reader and by a point's."""
    from pmtgain.errors import TrcError
    from pmtgain.io.flashes import read_many
    from pmtgain.io.trc import read_trc

    f = _patched_trc(tmp_path / "C1--n16deg--00000.trc", field, value)
    with pytest.raises(TrcError, match=message):
        read_trc(f)
    got = read_many([f])
    assert got.volts.shape[0] == 0 and message in got.errors[0][1], got.errors


def test_22_17_reports_at_once_on_the_same_outputs_all_succeed(sim):
    """Three `pmtgain report` at once: no shared temporary names, every run rc 0 with its
    report and every plot."""
    assert analysis(sim, "--pmt", "1").returncode == 0
    out = sim / "outputs"
    for _ in range(2):
        for p in (out / "plots").glob("**/*.png") if (out / "plots").exists() else []:
            p.unlink()  # every run draws every page again
        procs = [subprocess.Popen([sys.executable, "-m", "pmtgain", "report", "--outputs",
                                   str(out), "--jobs", "1", "--no-progress"], cwd=sim,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(3)]
        res = [p.communicate(timeout=300) for p in procs]
        for p, (_out, e) in zip(procs, res, strict=True):
            assert p.returncode == 0, e[-2000:]
        assert (out / "report.html").stat().st_size > 1000
        assert not list(out.glob("**/*.part"))


@pytest.mark.parametrize("name", ["pmt_1_800_flashes.npz", "pmt_1_800_examples.npz"])
def test_22_14_a_saved_npz_cut_short_costs_its_point_only(sim, name):
    """A per-flash table or examples file cut short (a kill, a full disk): the next run
    redoes that point, the report draws the others; no BadZipFile anywhere."""
    assert analysis(sim).returncode == 0
    f = sim / "outputs/lists/points" / name
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    r = analysis(sim, "--plots")
    no_traceback(r)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "4 points done (3 from an earlier run)" in r.stdout
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    r = subprocess.run([sys.executable, "-m", "pmtgain", "report", "--outputs",
                        str(sim / "outputs"), "--no-progress"], cwd=sim, capture_output=True,
                       text=True, timeout=300)
    no_traceback(r)
    assert r.returncode == 0, r.stderr[-2000:]


@pytest.mark.parametrize("edit", [
    lambda s: {**s, "hv": str(s["hv"])},  # a number as text
    lambda s: {k: v for k, v in s.items() if k not in ("pmt", "hv", "mean_charge")},
    lambda s: {**s, "pmt": 1.0},
])
def test_22_16_a_saved_summary_of_the_wrong_shape_is_not_a_finished_point(sim, edit):
    """Read back as data, checked as data: the point is redone, no traceback, and no
    pmt_1.0_data_list.json beside the real list."""
    assert analysis(sim).returncode == 0
    f = sim / "outputs/lists/points/pmt_1_800_summary.json"
    f.write_text(json.dumps(edit(json.loads(f.read_text()))))
    r = analysis(sim)
    no_traceback(r)
    assert r.returncode == 0 and "4 points done (3 from an earlier run)" in r.stdout
    assert sorted(p.name for p in (sim / "outputs/lists").glob("pmt_*_data_list.json")) \
        == ["pmt_1_data_list.json", "pmt_2_data_list.json"]


def test_22_16_a_job_summary_with_text_numbers_is_named_not_a_traceback(tmp_path):
    from pmtgain.results.gaincurve import collect
    from pmtgain.results.layout import Layout
    from pmtgain.results.store import write_json_records

    d = tmp_path / "condor_lists"
    d.mkdir()
    ok = dict(pmt=1, hv=900, mean_charge=-1.0, std_dev_charge=0.1)
    write_json_records(pd.DataFrame([ok]), d / "pmt_1_900_summary.json")
    write_json_records(pd.DataFrame([dict(ok, hv="1000 V")]), d / "pmt_1_1000_summary.json")
    df = collect(Layout(tmp_path, "condor_lists"))
    assert df.hv.tolist() == [900]
    assert any("not numbers" in why for _, _, why in df.attrs["failed"])


def test_22_20_a_local_directory_that_does_not_exist_is_named_once(tmp_path):
    from pmtgain.config import PointSpec
    from pmtgain.results.layout import Layout
    from pmtgain.run.executors import run_point
    from pmtgain.run.task import Task

    gone = tmp_path / "no" / "such"
    out = run_point(PointSpec(pmt=1, hv=1000, n_files=50, dir_url=str(gone) + "/",
                              folder="PMT_1"),
                    Task(layout=Layout(tmp_path / "out"), data_dir=tmp_path / "data"))
    assert not out.ok and "no such directory" in out.error and str(gone) in out.error
    assert out.error.count("missing") == 0, out.error


def test_22_21_positive_pulses_are_named_as_such(tmp_path):
    """Records of positive pulses (an inverting amplifier, a dynode signal): the flag says
    the polarity, not 'flat or empty records?'."""
    from pmtgain.io.trcwrite import write_trc
    from pmtgain.point.process import process_point
    from pmtgain.sim.simulate import DEMO_PMTS, simulate_point

    p = DEMO_PMTS[0]
    volts, _ = simulate_point(p, 1000, 200, seed=2)
    for i, v in enumerate(-volts):  # the scope's range set for them (16 bit)
        write_trc(tmp_path / f"C1--n16deg--{i:05d}.trc", v, dt_s=p.dt_ns * 1e-9, bits=16,
                  vertical_gain=float(np.abs(volts).max()) / 30000)
    s = process_point(sorted(tmp_path.glob("*.trc")), pmt=1, hv=1000).summary
    assert "positive" in s["point_flag"] and "flat or empty" not in s["point_flag"], \
        s["point_flag"]


def test_22_23_a_failing_line_removed_from_the_campaign_is_forgotten(sim):
    f = sim / "sim/data_info/data_directories_pmt_1.txt"
    good = f.read_text()
    f.write_text(good + f"{sim / 'nowhere'}/ 1 1100 5\n")
    r = analysis(sim)
    assert r.returncode == 1 and "FAILED PMT 1 at 1100 V" in r.stderr
    f.write_text(good)
    r = analysis(sim)
    assert r.returncode == 0, r.stderr
    assert "1100" not in r.stderr
    failed = json.loads((sim / "outputs/lists/failed.json").read_text())
    assert failed == []


def test_22_23_outputs_naming_a_file_says_so(sim):
    (sim / "out").write_text("not a directory")
    r = analysis(sim, "--outputs", "out")
    no_traceback(r)
    assert r.returncode == 2 and "out: --outputs names a file" in r.stderr, r.stderr


@pytest.mark.parametrize("fields, message", [
    ({"wave_array_count": 0, "wave_array_1": 0}, "no samples"),
    ({"vertical_gain": float("nan")}, "VERTICAL_GAIN is nan"),
    ({"vertical_gain": 0.0}, "VERTICAL_GAIN is 0.0"),
])
@pytest.mark.parametrize("as_json", [False, True])
def test_22_22_inspect_refuses_what_the_reader_refuses_by_name(tmp_path, fields, message,
                                                                as_json):
    import numpy as np

    from pmtgain.io.trc import DESC, DESC_FIELDS
    from pmtgain.io.trcwrite import write_trc

    f = tmp_path / "C1--n16deg--00000.trc"
    write_trc(f, np.linspace(-0.01, 0.0, 100), dt_s=1e-10, vertical_gain=1e-4)
    buf = bytearray(f.read_bytes())
    o = buf.find(b"WAVEDESC")
    v = list(DESC["<"].unpack_from(buf, o))
    for k, x in fields.items():
        v[DESC_FIELDS.index(k)] = x
    DESC["<"].pack_into(buf, o, *v)
    f.write_bytes(bytes(buf))
    r = subprocess.run([PY, "-m", "pmtgain", "inspect", str(f), *(["--json"] if as_json
                                                                  else [])],
                       capture_output=True, text=True, cwd=tmp_path, timeout=60)
    no_traceback(r)
    assert r.returncode == 2 and str(f) in r.stderr and message in r.stderr, r.stderr
    assert "NaN" not in r.stdout


def test_22_2_a_changed_line_is_redone_and_an_unchanged_one_reused(sim):
    """n_files 20 -> 50 (the rest of the upload arrived) and a corrected dir_url redo
    their point; the others are reused, and so are the low-light runs."""
    import shutil

    from pmtgain.sim.simspe import simulate_spe_runs

    simulate_spe_runs(sim / "sim", DEMO_PMTS[:1], hv=1000, n=2000, seed=3)
    f = sim / "sim/data_info/data_directories_pmt_1.txt"
    good = f.read_text()
    f.write_text(good.replace(" 1 1000 50 ", " 1 1000 20 "))
    r = analysis(sim)
    assert r.returncode == 0, r.stderr
    first = read_json_records(sim / "outputs/lists/pmt_1_data_list.json")
    assert first.set_index("hv").n_files[1000] == 20
    f.write_text(good)
    r = analysis(sim)
    assert r.returncode == 0, r.stderr
    assert "redoing 1 point(s) saved earlier: its number of files changed in the campaign " \
           "(20 -> 50)" in r.stdout, r.stdout
    assert "3 from an earlier run" in r.stdout and "low-light" in r.stdout
    assert read_json_records(sim / "outputs/lists/pmt_1_data_list.json").set_index(
        "hv").n_files[1000] == 50
    spe_log = sim / "outputs/logs/spe_1_1000V.log"
    runs_logged = spe_log.read_text().count("low-light run:")
    # the corrected dir_url: a copy of PMT 2's 800 V files with 10 of them left out
    copy = sim / "sim/PMT_2_2_fixed/800/Autosave"
    shutil.copytree(point_dir(sim, 2, 800), copy)
    for p in sorted(copy.glob("*.trc"))[:10]:
        p.unlink()
    f2 = sim / "sim/data_info/data_directories_pmt_2.txt"
    f2.write_text(f2.read_text().replace(str(point_dir(sim, 2, 800)), str(copy)))
    r = analysis(sim)
    assert r.returncode == 0, r.stderr
    assert "its dir_url changed in the campaign" in r.stdout, r.stdout
    df = read_json_records(sim / "outputs/lists/pmt_2_data_list.json").set_index("hv")
    assert df.n_used[800] <= 40
    assert spe_log.read_text().count("low-light run:") == runs_logged  # reused, not redone


def test_22_8_links_planted_in_the_outputs_are_never_written_through(sim):
    """Every file the package writes in --outputs, planted as a link to a file outside:
    the link is replaced by the result or refused by name; the target is untouched."""
    victim = sim / "victim.txt"
    victim.write_text("precious")
    out = sim / "outputs"
    (out / "lists").mkdir(parents=True)
    (out / "logs").mkdir()
    links = ["lists/run.json", "gain_curves.png", "gain_curves.csv", "report.html",
             "lists/pmt_1_data_list.csv", "lists/failed.json"]
    for name in links:
        (out / name).symlink_to(victim)
    r = analysis(sim)
    assert r.returncode == 0, r.stderr
    r = run(["-m", "pmtgain", "report", "--outputs", str(out), "--jobs", "1",
             "--no-progress"], sim)
    assert r.returncode == 0, r.stderr
    for name in links:
        assert not (out / name).is_symlink(), name
    assert victim.read_text() == "precious"
    # a lock or log file (opened in place, not renamed) that is a link: refused by name
    (out / ".pmtgain.lock").unlink()
    (out / ".pmtgain.lock").symlink_to(victim)
    r = analysis(sim)
    assert r.returncode != 0 and "is a link" in r.stderr and ".pmtgain.lock" in r.stderr
    no_traceback(r)
    (out / ".pmtgain.lock").unlink()
    (out / "logs/pmt_1_1000V.log").unlink()
    (out / "logs/pmt_1_1000V.log").symlink_to(victim)
    r = analysis(sim, "--force")
    assert r.returncode == 1 and "FAILED PMT 1 at 1000 V" in r.stderr and "is a link" in r.stderr
    no_traceback(r)
    assert victim.read_text() == "precious"


def test_22_6_lists_of_two_runs_are_refused_by_the_merge_by_name(sim):
    """``analysis.py --force`` killed between two PMTs' lists leaves PMT 1 of this run
    beside PMT 2 of the previous one: the merge refuses that set, naming the files."""
    assert analysis(sim).returncode == 0
    lists = sim / "outputs/lists"
    old = {f.name: f.read_bytes() for f in lists.glob("pmt_2_data_list.*")}
    assert analysis(sim, "--force").returncode == 0
    for name, body in old.items():  # as if the kill came after PMT 1's lists
        (lists / name).write_bytes(body)
    r = run([str(ROOT / "gain_curve.py"), "--outputs", "outputs"], sim)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "different runs" in r.stderr and "pmt_2_data_list.json" in r.stderr
    no_traceback(r)
    assert analysis(sim).returncode == 0  # a re-run writes them as one set again
    assert run([str(ROOT / "gain_curve.py"), "--outputs", "outputs"], sim).returncode == 0


def test_22_6_a_pmt_without_results_leaves_no_old_list_behind(sim):
    assert analysis(sim).returncode == 0
    f = sim / "sim/data_info/data_directories_pmt_2.txt"
    f.unlink()
    assert analysis(sim).returncode == 0
    assert not list((sim / "outputs/lists").glob("pmt_2_data_list.*"))


def test_22_12_a_pool_worker_killed_costs_no_point_and_no_traceback(sim):
    """One worker of analysis.py's pool killed (as the OOM killer would): the points it
    left unfinished run again, every list is written, one line says what happened."""
    proc = start_analysis(sim, "--jobs", "2", stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    deadline = time.monotonic() + 60
    killed = False
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            kids = children.read_text().split()
        except OSError:
            kids = []
        if kids:
            os.kill(int(kids[0]), signal.SIGKILL)
            killed = True
            break
        time.sleep(0.01)
    out, err = proc.communicate(timeout=300)
    assert killed, "the pool never started"
    assert proc.returncode == 0, err
    assert "Traceback" not in out + err, err[-2000:]
    assert "worker process died" in err
    for pmt in (1, 2):
        df = read_json_records(sim / f"outputs/lists/pmt_{pmt}_data_list.json")
        assert sorted(df.hv) == [800, 1000]


def test_22_13_a_pmt_whose_only_point_has_one_flash_prints_its_table(sim):
    f = sim / "sim/data_info/data_directories_pmt_1.txt"
    f.write_text(f.read_text().splitlines()[0].replace(" 50 ", " 1 ") + "\n")
    r = analysis(sim, "--pmt", "1")
    assert r.returncode == 0, r.stderr
    no_traceback(r)
    for args in ([], ["--quantity", "gain"]):
        g = run([str(ROOT / "gain_curve.py"), *args], sim)
        assert g.returncode == 0, g.stderr
        no_traceback(g)
        row = next(line for line in g.stdout.splitlines() if line.strip().startswith("1 800"))
        assert "None" not in row and "NaN" in row, row  # the spread of one flash: not known


@pytest.fixture
def open_tmp():
    """A folder under /tmp itself, open to every user (pytest's own are closed to them)."""
    import shutil
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="pmtgain-notmine-", dir="/tmp"))
    d.chmod(0o755)
    yield d
    d.chmod(0o755)
    shutil.rmtree(d, ignore_errors=True)


def test_23_5_a_project_not_writable_by_the_user_is_one_line_naming_the_owner(open_tmp):
    """``list_directories_condor.py`` in a project that belongs to somebody else: one line
    saying who owns it and what to do, no PermissionError traceback."""
    import shutil

    proj = open_tmp
    (proj / "data_info").mkdir(parents=True)
    (proj / "data_info" / "data_directories_pmt_1.txt").write_text(
        "https://h.example/PMT_1_2/1000/ 1 1000 5\n")
    shutil.copy(ROOT / "list_directories_condor.py", proj)
    cmd = [PY, "list_directories_condor.py"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if os.geteuid() == 0:  # root may write anywhere: run as nobody
        if shutil.which("runuser") is None:
            pytest.skip("no runuser to drop root")
        (proj / "data_info").chmod(0o755)
        cmd = ["runuser", "-u", "nobody", "--", *cmd]
        probe = subprocess.run(["runuser", "-u", "nobody", "--", PY, "-c",
                                "import numpy, pmtgain.io.campaign"], cwd=proj,
                               capture_output=True, text=True, env=env, timeout=60)
        if probe.returncode != 0:  # the HTCondor test checks it as the pool's submit user
            pytest.skip(f"nobody cannot run this interpreter: {probe.stderr.strip()[:100]}")
    else:
        proj.chmod(0o555)
    r = subprocess.run(cmd, cwd=proj, capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr
    no_traceback(r)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Permission denied" in lines[0] and "belongs to" in lines[0] \
        and "writable by the user" in lines[0], lines
