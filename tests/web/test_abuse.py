"""Hostile requests to `gradscope serve`, over raw sockets: path traversal in every spelling, a
symlink out of the root, NUL bytes, huge headers and URIs, bodies over the limit, methods that
would write, slow and idle clients. Each must be refused (an error status or a closed
connection) with nothing of the host in the answer, and the server must go on serving; no file
under the root may change. Prints the table of docs/VIEWER.md.

    GRADSCOPE_BINARY=<build>/gradscope python3 -m pytest -q -s tests/web/test_abuse.py
"""

import hashlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

BINARY = os.environ.get("GRADSCOPE_BINARY", "build/gradscope")
SOURCE = Path(__file__).resolve().parents[2]
RESULTS = []  # (case, request, answer) for the table


def tree_digest(root):
    """A hash of every file's path and bytes under root (no symlink followed), but SQLite's
    -wal and -shm files: a reader of a WAL database makes them where they are missing (its
    locks), and that changes no content."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in sorted(os.walk(root)):
        for name in sorted(filenames):
            if name.endswith(("-wal", "-shm")):
                continue
            p = Path(dirpath) / name
            h.update(str(p.relative_to(root)).encode())
            if not p.is_symlink():
                h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def server():
    root = Path(tempfile.mkdtemp(prefix="gs-abuse-"))
    subprocess.run([BINARY, "run", str(SOURCE / "tests/fixtures/tiny.toml"), "probe.inside=true",
                    "--out", str(root / "tiny")], check=True, capture_output=True)
    outside = Path(tempfile.mkdtemp(prefix="gs-outside-"))
    (outside / "config.toml").write_text('name = "secret"\n')
    (outside / "secret.txt").write_text("secret\n")
    os.symlink(outside, root / "escape")
    os.symlink("/etc", root / "etc-link")
    # A run folder inside the root whose file links out of it, and one whose config does not parse.
    (root / "linked").mkdir()
    shutil.copy(root / "tiny" / "config.toml", root / "linked" / "config.toml")
    os.symlink(outside / "secret.txt", root / "linked" / "metrics.jsonl")
    # A run whose spectra folder links to a folder inside the root whose file links out.
    (root / "store").mkdir()
    os.symlink(outside / "secret.txt", root / "store" / "steps.npy")
    (root / "viadir").mkdir()
    shutil.copy(root / "tiny" / "config.toml", root / "viadir" / "config.toml")
    os.symlink(root / "store", root / "viadir" / "spectra")
    # A run whose checkpoints lie outside (a scratch filesystem): the viewer never reads them.
    shutil.copytree(root / "tiny", root / "scratch", symlinks=True,
                    ignore=shutil.ignore_patterns("checkpoints"))
    os.symlink(outside, root / "scratch" / "checkpoints")
    (root / "unparsed").mkdir()
    (root / "unparsed" / "config.toml").write_text("seed = [1\n")
    proc = subprocess.Popen([BINARY, "serve", str(root), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    port = int(re.search(r":(\d+)/$", line.strip()).group(1))
    before = tree_digest(root)
    yield {"port": port, "root": root}
    assert tree_digest(root) == before, "a request changed a file under the root"
    assert proc.poll() is None, "the server died"
    proc.terminate()
    proc.wait(10)
    assert proc.returncode == 0
    shutil.rmtree(root)
    shutil.rmtree(outside)
    print("\n| case | request | answer |\n|---|---|---|")
    for case, request, answer in RESULTS:
        print(f"| {case} | `{request}` | {answer} |")


def exchange(port, raw, timeout=10.0):
    """Sends raw bytes, returns (status or None when the server closed, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(raw)
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
                if b"\r\n\r\n" in data:
                    head, _, body = data.partition(b"\r\n\r\n")
                    m = re.search(rb"Content-Length: (\d+)", head, re.I)
                    if m and len(body) >= int(m.group(1)):
                        break
        except (ConnectionResetError, socket.timeout):
            pass
    if not data.startswith(b"HTTP/1.1 "):
        return None, b""
    return int(data[9:12]), data.partition(b"\r\n\r\n")[2]


def get(port, target, extra=b""):
    return exchange(port, b"GET " + target +
                    b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                    extra + b"\r\n")


def still_serving(port):
    """The server answers a good request at once."""
    t0 = time.monotonic()
    status, body = get(port, b"/api/runs")
    assert status == 200 and b'"tiny"' in body
    return time.monotonic() - t0


def check_refused(server, case, target, statuses, extra=b""):
    status, body = get(server["port"], target, extra)
    assert status in statuses, f"{case}: got {status}"
    for leak in (str(server["root"]).encode(), b"secret", b"root:x:", b"Traceback"):
        assert leak not in body, f"{case}: the answer holds {leak!r}"
    still_serving(server["port"])
    answer = f"{status} {body.decode(errors='replace').strip()}" if status else "connection closed"
    shown = target.decode(errors="replace")
    RESULTS.append((case, shown if len(shown) < 60 else shown[:57] + "...", answer))


TRAVERSALS = [
    ("dotdot", b"/api/run?dir=../"),
    ("dotdot deeper", b"/api/run?dir=tiny/../../etc"),
    ("encoded dotdot", b"/api/run?dir=%2e%2e/%2e%2e/etc"),
    ("encoded slash", b"/api/run?dir=..%2f..%2fetc"),
    ("double-encoded", b"/api/run?dir=%252e%252e%252f"),
    ("absolute path", b"/api/run?dir=/etc"),
    ("absolute, encoded", b"/api/run?dir=%2fetc"),
    ("backslashes", b"/api/run?dir=..%5c..%5cetc"),
    ("NUL byte", b"/api/run?dir=tiny%00/../.."),
    ("symlink out of root", b"/api/run?dir=escape"),
    ("symlink to /etc", b"/api/metrics?dir=etc-link"),
    ("through a symlink", b"/api/run?dir=escape/."),
    ("a file, not a directory", b"/api/run?dir=tiny/config.toml"),
    ("static path traversal", b"/../../etc/passwd"),
    ("static, encoded", b"/%2e%2e/%2e%2e/etc/passwd"),
    ("bad percent-encoding", b"/api/run?dir=%zz%"),
    ("not UTF-8", b"/api/run?dir=%ff%fe%00"),
    ("not UTF-8, unknown metric", b"/api/metrics?dir=tiny&keys=%ff%fe"),
    ("absolute-form URI", b"http://evil/../../etc/passwd"),
    ("inside: dotdot", b"/api/inside?dir=../&step=0"),
    ("inside: symlink out of root", b"/api/inside?dir=escape&step=0"),
    ("inside: a frame folder as the run", b"/api/inside?dir=tiny/inside/0&step=0"),
    ("a run's file linked out of root", b"/api/metrics?dir=linked&keys=train_loss"),
    ("a run's file linked out, the run", b"/api/run?dir=linked"),
    ("a config that does not parse", b"/api/run?dir=unparsed"),
    ("a folder linked in the root, its file out", b"/api/probe?dir=viadir&kind=spectra"),
]


@pytest.mark.parametrize("case,target", TRAVERSALS, ids=[c for c, _ in TRAVERSALS])
def test_traversal_is_refused(server, case, target):
    check_refused(server, case, target, {400, 404})


def test_another_host_name_is_refused(server):
    """Bound to loopback, a request naming another host (a page whose name was rebound to
    127.0.0.1) gets 421, not the runs."""
    for host in (b"attacker.example", b"attacker.example:80", b"127.0.0.1.evil.example"):
        raw = b"GET /api/runs HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n"
        status, body = exchange(server["port"], raw)
        assert status == 421 and b'"tiny"' not in body, (host, status, body)
    for host in (b"localhost", b"127.0.0.1:80", b"[::1]:8080"):
        raw = b"GET /api/runs HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n"
        assert exchange(server["port"], raw)[0] == 200, host
    RESULTS.append(("another host name", "`Host: attacker.example`", "421 refused"))


def test_a_run_whose_checkpoints_lie_elsewhere_is_served(server):
    """Links the viewer does not read through (checkpoints/ on scratch space) keep a run served."""
    status, body = get(server["port"], b"/api/run?dir=scratch")
    assert status == 200 and b'"scratch"' in body, (status, body[:200])


def test_a_port_in_use_is_refused(server):
    """A second server on the port the first listens on: exit 2, one line (no shared port)."""
    r = subprocess.run([BINARY, "serve", str(server["root"]), "--port", str(server["port"])],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "cannot listen" in r.stderr, r
    still_serving(server["port"])


def test_not_utf8_method(server):
    status, body = exchange(server["port"], b"\xff\xfeGET /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            b"Connection: close\r\n\r\n")
    assert status in (400, 405, None)
    still_serving(server["port"])
    RESULTS.append(("method not UTF-8", "\\xff\\xfeGET /api/runs", f"{status} {body.decode(errors='replace').strip()}" if status else "connection closed"))


def test_huge_header_is_refused(server):
    check_refused(server, "100 kB header", b"/api/runs", {400, 431, None},
                  b"X-Big: " + b"a" * 100_000 + b"\r\n")


def test_many_headers_are_refused(server):
    check_refused(server, "5,000 headers", b"/api/runs", {400, 431, None},
                  b"".join(b"X-%d: 1\r\n" % i for i in range(5000)))


def test_huge_uri_is_refused(server):
    check_refused(server, "20 kB URI", b"/api/run?dir=" + b"a" * 20_000, {400, 414, None})


def test_bad_parameters_are_refused(server):
    check_refused(server, "buckets out of range", b"/api/metrics?dir=tiny&buckets=99999999999999999999",
                  {400})
    check_refused(server, "too many keys", b"/api/metrics?dir=tiny&keys=" + b",".join(
        b"k%d" % i for i in range(100)), {400})
    check_refused(server, "unknown probe kind", b"/api/probe?dir=tiny&kind=../../x", {400})
    check_refused(server, "inside: step a path", b"/api/inside?dir=tiny&step=../../etc/passwd", {400})
    check_refused(server, "inside: step out of range",
                  b"/api/inside?dir=tiny&step=99999999999999999999", {400})
    check_refused(server, "inside: no frame at that step", b"/api/inside?dir=tiny&step=123457", {404})
    check_refused(server, "inside: unknown format", b"/api/inside?dir=tiny&step=0&format=../x", {400})
    status, body = exchange(server["port"], b"GET /api/inside?dir=tiny&step=0 HTTP/1.1\r\nHost: 127.0.0.1"
                            b"\r\nConnection: close\r\n\r\n")
    assert status == 200 and b'"arrays"' in body, "a good frame request is answered"


@pytest.mark.parametrize("method", [b"POST", b"PUT", b"DELETE", b"PATCH"])
def test_writing_methods_are_refused(server, method):
    status, body = exchange(server["port"], method + b" /api/run?dir=tiny HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")
    assert status == 405 and b"read-only" in body
    still_serving(server["port"])
    RESULTS.append((f"{method.decode()} (writes)", f"{method.decode()} /api/run?dir=tiny",
                    f"{status} {body.decode().strip()}"))


def test_oversized_body_is_refused(server):
    status, _ = exchange(server["port"], b"POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Length: 100000000\r\n\r\n" + b"x" * 1000)
    assert status in (413, 400, None)
    still_serving(server["port"])
    RESULTS.append(("100 MB body announced", "POST /api/runs, Content-Length: 100000000",
                    f"{status}" if status else "connection closed"))


def test_garbage_request_line_is_refused(server):
    status, _ = exchange(server["port"], b"\x00\x01GARBAGE\r\n\r\n")
    assert status in (400, None)
    still_serving(server["port"])
    RESULTS.append(("garbage request line", "\\x00\\x01GARBAGE", f"{status}" if status else
                    "connection closed"))


def test_slow_client_is_dropped_and_others_are_served(server):
    """A client that sends half a request and stalls is dropped after the read timeout (5 s);
    meanwhile other requests are answered at once."""
    slow = socket.create_connection(("127.0.0.1", server["port"]))
    slow.sendall(b"GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    t0 = time.monotonic()
    served = still_serving(server["port"])
    slow.settimeout(15)
    try:
        data = slow.recv(100)
    except ConnectionResetError:
        data = b""
    except socket.timeout:
        pytest.fail("a stalled client was never dropped")
    assert data == b"" or data.startswith(b"HTTP/1.1 4"), data
    dropped = time.monotonic() - t0
    slow.close()
    assert served < 1.0 and dropped < 12
    RESULTS.append(("slow client (half a request, then silence)", "GET /api/runs HTTP/1.1 ...",
                    f"dropped after {dropped:.1f} s; a good request meanwhile took {served*1000:.0f} ms"))


def test_many_idle_connections(server):
    """100 connections opened and left silent: the server drops them after the read timeout and
    answers a good request meanwhile (within the timeout at worst)."""
    idle = [socket.create_connection(("127.0.0.1", server["port"])) for _ in range(100)]
    time.sleep(0.2)
    served = still_serving(server["port"])
    for s in idle:
        s.close()
    assert served < 6.0
    RESULTS.append(("100 idle connections held open", "(connect, send nothing)",
                    f"a good request meanwhile took {served*1000:.0f} ms"))


def test_cuda_is_refused_in_one_line(server):
    """serve and report read run directories on the host: --device cuda is one line, exit 2."""
    for args in (["serve", str(server["root"])],
                 ["report", str(server["root"] / "tiny"), "--html", "/tmp/never.html"]):
        r = subprocess.run([BINARY, "--device", "cuda", *args], capture_output=True, text=True)
        assert r.returncode == 2
        assert r.stderr.count("\n") == 1 and "valid: cpu" in r.stderr, r.stderr
    assert not Path("/tmp/never.html").exists()


def test_bad_command_lines_are_one_line(server, tmp_path):
    """A missing root or run, a bad port: exit 2, one line naming what was wrong, nothing written."""
    out = tmp_path / "r.html"
    cases = [
        (["serve", str(tmp_path / "missing")], "is not a directory"),
        (["serve", str(server["root"]), "--port", "70000"], "--port 70000"),
        (["report", str(tmp_path / "missing"), "--html", str(out)], "not a run or sweep directory"),
        (["report", str(server["root"]), "--html", str(out)], "not a run or sweep directory"),
    ]
    for args, message in cases:
        r = subprocess.run([BINARY, *args], capture_output=True, text=True)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.count("\n") == 1 and message in r.stderr, r.stderr
    assert not out.exists()


def test_listening_beyond_loopback_warns(server):
    """--host 0.0.0.0 serves, with a warning on stderr first."""
    proc = subprocess.Popen([BINARY, "serve", str(server["root"]), "--port", "0", "--host",
                             "0.0.0.0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        warning = proc.stderr.readline()
        assert "warning: listening on 0.0.0.0, not loopback" in warning, warning
        assert "serving" in proc.stdout.readline()
    finally:
        proc.terminate()
        proc.wait(10)


# Preloaded into serve: the first few threads a process creates leave their creator paused, so the
# thread that waits for SIGTERM runs before the main thread reaches the listening loop.
SLOW_CREATOR = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>
typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
int pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*f)(void *), void *arg) {
  static int created;
  create_fn real = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
  int r = real(t, a, f, arg);
  if (created++ < 4) usleep(100000);
  return r;
}
"""


def test_a_stop_signal_before_the_listening_loop_stops_the_server(server, tmp_path):
    """SIGTERM right after 'serving' is printed, delivered before the listening loop runs, ends
    the process: such a signal used to be lost (httplib's stop() does nothing before listen), and
    serve never exited (web.abuse failed on it once in CI, under load)."""
    shim = tmp_path / "slow_creator.so"
    (tmp_path / "slow_creator.c").write_text(SLOW_CREATOR)
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(shim), str(tmp_path / "slow_creator.c"),
                    "-ldl"], check=True)
    env = dict(os.environ, LD_PRELOAD=str(shim))
    for _ in range(3):
        proc = subprocess.Popen([BINARY, "serve", str(server["root"]), "--port", "0"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                env=env)
        assert "serving" in proc.stdout.readline()
        proc.terminate()
        try:
            assert proc.wait(10) == 0
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail("serve ignored a SIGTERM that came before its listening loop")
