"""Faults on the real engine: registry lost mid-push, daemon stopped mid-build, Ctrl-C during build
and push, SIGTERM during the build, a full disk under the ledger, eight concurrent deploys, registries answering 401/500.

After each: the ledger parses and holds exactly the records of the deploys that pushed, and no
temporary directory or container is left behind.
"""

from __future__ import annotations

import base64
import glob
import http.server
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Callable

import pytest

from freshbin import ledger

from ..conftest import FRESHBIN, commit_all, engine_name, set_revision, write
from .conftest import BUILD_ARGS, unique_image
from .test_deploy import ok_json

pytestmark = pytest.mark.e2e
STATE = Path("/var/lib/freshbin-env")
SLOW_DOCKERFILE_LINE = "RUN sleep 25\n"


# --- what must hold after every fault -----------------------------------------------------------

def snapshot() -> tuple[set[str], set[str]]:
    temp = set(glob.glob(f"{tempfile.gettempdir()}/freshbin-*"))
    containers = set(subprocess.run(["docker", "ps", "-aq"], capture_output=True, text=True).stdout.split())
    return temp, containers


def assert_clean(before: tuple[set[str], set[str]]) -> None:
    temp, containers = snapshot()
    assert temp <= before[0], f"temporary directories left behind: {sorted(temp - before[0])}"
    assert containers <= before[1], f"containers left behind: {sorted(containers - before[1])}"
    assert not subprocess.run(["pgrep", "-f", "docker-buildx buildx build"], capture_output=True).stdout, \
        "a buildx child is still running"


def records(repo: Path) -> list[dict]:
    read = ledger.read(repo / ".freshbin" / "deploys.jsonl")
    assert read.problems == [], read.problems
    return read.records


def one_line_error(proc: subprocess.CompletedProcess, code: int = 2) -> str:
    assert proc.returncode == code, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("freshbin: error:") or last in ("freshbin: interrupted", "freshbin: terminated (SIGTERM)"), last
    assert "Traceback" not in proc.stderr
    return last


def deploy_argv(image: str, *args: str) -> list[str]:
    argv = [*FRESHBIN, "deploy", "--image", image, "--target", "worker", "--json"]
    for key, value in BUILD_ARGS.items():
        argv += ["--build-arg", f"{key}={value}"]
    return argv + list(args)


def slow_dockerfile(repo: Path) -> None:
    """A build step that takes long enough to interrupt (before the cargo build)."""
    # After the COPY of bin/ (unique content per test), so the sleep is never a cached layer.
    text = (repo / "Dockerfile").read_text().replace("COPY bin bin\n", "COPY bin bin\n" + SLOW_DOCKERFILE_LINE)
    write(repo / "Dockerfile.slow", text)
    set_revision(repo, "worker", f"slow-{uuid.uuid4().hex[:8]}")
    commit_all(repo, "slow build")


def start(argv: list[str], repo: Path) -> subprocess.Popen:
    """In its own process group, like a foreground job in a terminal."""
    return subprocess.Popen(argv, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for(proc: subprocess.Popen, needle: str, timeout: float = 300) -> str:
    """Read stderr until `needle` appears; returns what was read."""
    seen = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return "".join(seen)
    raise AssertionError(f"{needle!r} never appeared:\n{''.join(seen)[-2000:]}")


def finish(proc: subprocess.Popen, already: str = "") -> subprocess.CompletedProcess:
    out, err = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, already + err)


# --- a registry connection that breaks mid-upload ------------------------------------------------

class Proxy:
    """TCP proxy to a registry that cuts (or stalls) any connection after `limit` uploaded bytes."""

    def __init__(self, upstream: str, limit: int, mode: str = "cut"):
        self.upstream = upstream.split(":")
        self.limit, self.mode, self.enabled = limit, mode, True
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.address = f"127.0.0.1:{self.server.getsockname()[1]}"
        self.stalled = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection((self.upstream[0], int(self.upstream[1])))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, upload: bool) -> None:
        sent = 0
        try:
            while data := src.recv(65536):
                sent += len(data)
                if upload and self.enabled and sent > self.limit:
                    if self.mode == "stall":
                        self.stalled.set()
                        time.sleep(600)
                    raise ConnectionResetError
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def close(self) -> None:
        self.server.close()


# --- the tests -------------------------------------------------------------------------------------

@pytest.mark.engine_independent
def test_registry_lost_mid_push_records_nothing_and_a_retry_records_once(engine, example_repo, private_registry):
    address, _ = private_registry
    proxy = Proxy(address, limit=512 * 1024)
    image = f"{proxy.address}/acme/worker"
    before = snapshot()
    try:
        set_revision(example_repo, "worker", f"cut-{uuid.uuid4().hex[:8]}")
        commit_all(example_repo, "change")
        failed = subprocess.run(deploy_argv(image), cwd=example_repo, capture_output=True, text=True, timeout=600)
        line = one_line_error(failed)
        assert "failed" in line and failed.stdout == ""
        assert records(example_repo) == []
        proxy.enabled = False  # the registry is back
        ok = ok_json(subprocess.run(deploy_argv(image), cwd=example_repo, capture_output=True, text=True,
                                    timeout=600))
        assert [r["digest"] for r in records(example_repo)] == [ok["digest"]]
    finally:
        proxy.close()
    assert_clean(before)


def signalled_mid_build(repo: Path, name: str, send: Callable[[int], None]
                       ) -> tuple[subprocess.CompletedProcess, tuple[set[str], set[str]]]:
    """A deploy whose build is sleeping when `send(pid)` signals it: (its result, the snapshot before)."""
    slow_dockerfile(repo)
    before = snapshot()
    proc = start(deploy_argv(unique_image(name), "--dockerfile", "Dockerfile.slow"), repo)
    seen = wait_for(proc, "sleep 25")
    time.sleep(1)
    send(proc.pid)
    return finish(proc, seen), before


def test_ctrl_c_during_build_and_during_push(engine, example_repo, private_registry):
    # Ctrl-C in a terminal: the signal goes to freshbin's whole process group.
    result, before = signalled_mid_build(example_repo, "fault-sigint", lambda pid: os.killpg(pid, signal.SIGINT))
    assert one_line_error(result, code=130) == "freshbin: interrupted"
    assert records(example_repo) == []
    assert_clean(before)

    address, _ = private_registry
    proxy = Proxy(address, limit=512 * 1024, mode="stall")
    try:
        proc = start(deploy_argv(f"{proxy.address}/acme/worker", "--strategy", "cached"), example_repo)
        assert proxy.stalled.wait(300), "the push never started"
        time.sleep(1)
        os.killpg(proc.pid, signal.SIGINT)
        result = finish(proc)
        assert one_line_error(result, code=130) == "freshbin: interrupted"
        assert records(example_repo) == []
    finally:
        proxy.close()
    assert_clean(before)


def test_sigterm_to_freshbin_alone_mid_build_ends_the_build_too(engine, example_repo):
    """`kill PID`, `timeout`, a cancelled CI job: the signal reaches freshbin only, not its group.
    It unwinds as Ctrl-C does and takes the buildx plugin (its grandchild) down with it."""
    result, before = signalled_mid_build(example_repo, "fault-sigterm", lambda pid: os.kill(pid, signal.SIGTERM))
    assert one_line_error(result, code=143) == "freshbin: terminated (SIGTERM)"
    assert records(example_repo) == []
    assert_clean(before)


def test_daemon_stopped_mid_build(engine, example_repo):
    # The daemon under test — never the default one while the suite runs on the second engine.
    name = engine_name()
    state = STATE if name == "default" else STATE / name
    up_args = [] if name == "default" else ["--engine", "26"] + (["--containerd-store"] if "containerd" in name else [])
    pidfile = state / "dockerd.pid"
    if not (state / "dockerd.started").exists() or not pidfile.exists():
        pytest.skip("dockerd was not started by `freshbin env.up`; not stopping someone else's daemon")
    slow_dockerfile(example_repo)
    before = snapshot()
    proc = start(deploy_argv(unique_image("fault-daemon"), "--dockerfile", "Dockerfile.slow"), example_repo)
    seen = wait_for(proc, "sleep 25")
    pid = int(pidfile.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
        result = finish(proc, seen)
    finally:
        for _ in range(120):  # let the old daemon go before starting a new one
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.5)
        script = Path(__file__).resolve().parents[2] / "src" / "freshbin" / "data" / "testenv.sh"
        restarted = subprocess.run(["bash", str(script), "up", *up_args], capture_output=True, text=True)
        assert restarted.returncode == 0, restarted.stderr
    line = one_line_error(result)
    assert "daemon" in line.lower() or "failed" in line
    assert records(example_repo) == []
    assert_clean(before)


@pytest.fixture
def full_disk(tmp_path):
    mount = tmp_path / "ledger-fs"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)]).returncode != 0:
        pytest.fail("cannot mount a tmpfs to simulate a full disk (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)])


def fill(mount: Path, leave: int) -> None:
    """Take all but `leave` bytes of what is still free (a new file each time)."""
    free = os.statvfs(mount).f_bavail * os.statvfs(mount).f_frsize
    (mount / f"filler-{uuid.uuid4().hex[:6]}").write_bytes(b"\0" * max(free - leave, 0))


@pytest.mark.engine_independent
def test_full_disk_under_the_ledger_refuses_before_pushing_and_never_corrupts(engine, example_repo, full_disk):
    write(example_repo / "freshbin.yaml", f"freshbin:\n  ledger: {full_disk / 'deploys.jsonl'}\n")
    commit_all(example_repo, "ledger on a small disk")
    image = unique_image("fault-disk")
    first = ok_json(subprocess.run(deploy_argv(image, "--tag", "one"), cwd=example_repo, capture_output=True,
                                   text=True, timeout=600))
    fill(full_disk, leave=4096)
    refused = subprocess.run(deploy_argv(image, "--tag", "two"), cwd=example_repo, capture_output=True, text=True,
                             timeout=600)
    assert "free" in one_line_error(refused)
    assert subprocess.run(["docker", "buildx", "imagetools", "inspect", f"{image}:two"],
                          capture_output=True).returncode != 0, "pushed although the ledger had no room"
    kept = ledger.read(full_disk / "deploys.jsonl")
    assert kept.problems == [] and [r["digest"] for r in kept.records] == [first["digest"]]
    # A write that runs out of space half-way is rolled back, not left as a fragment.
    fill(full_disk, leave=0)
    size = (full_disk / "deploys.jsonl").stat().st_size
    with pytest.raises(Exception, match="cannot write the deploy ledger"):
        ledger.append(full_disk / "deploys.jsonl", {"image": image, "commit": "x", "pad": "p" * 65536})
    assert (full_disk / "deploys.jsonl").stat().st_size == size


def test_eight_concurrent_deploys_all_recorded_once(engine, example_repo):
    image = unique_image("fault-eight")
    before = snapshot()
    results: dict[str, subprocess.CompletedProcess] = {}

    def run(tag: str) -> None:
        results[tag] = subprocess.run(deploy_argv(image, "--tag", tag), cwd=example_repo, capture_output=True,
                                      text=True, timeout=1200)

    threads = [threading.Thread(target=run, args=(f"c{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pushed = {tag: json.loads(p.stdout)["digest"] for tag, p in results.items() if p.returncode in (0, 1)}
    for tag, proc in results.items():
        if proc.returncode not in (0, 1):  # a failed deploy must fail cleanly and record nothing
            one_line_error(proc)
    # Registry 5xx on racing blob uploads are retried, so all eight get through here.
    assert len(pushed) == 8, {t: p.stderr[-3000:] for t, p in results.items() if p.returncode not in (0, 1)}
    assert sorted((r["tag"], r["digest"]) for r in records(example_repo)) == sorted(pushed.items())
    assert_clean(before)


class _Answer(http.server.BaseHTTPRequestHandler):
    status = 500

    def _reply(self) -> None:
        self.send_response(self.status)
        if self.status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="test"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = _reply

    def log_message(self, *args) -> None:
        pass


@pytest.mark.engine_independent
@pytest.mark.parametrize("status, words", [(500, "500"), (401, "docker login")])
def test_registry_answering_an_error_is_one_line_before_any_build(engine, example_repo, status, words):
    handler = type("Answer", (_Answer,), {"status": status})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        image = f"127.0.0.1:{server.server_address[1]}/acme/worker"
        proc = subprocess.run(deploy_argv(image), cwd=example_repo, capture_output=True, text=True, timeout=300)
    finally:
        server.shutdown()
    assert words in one_line_error(proc)
    assert records(example_repo) == []


@pytest.fixture
def auth_registry(tmp_path):
    bcrypt = pytest.importorskip("bcrypt")
    user, password = "alice", f"pw-{uuid.uuid4().hex}"
    htpasswd = write(tmp_path / "htpasswd", f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()}\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = write(tmp_path / "registry.yml", f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
                   f"    rootdirectory: {tmp_path / 'data'}\nhttp:\n  addr: 127.0.0.1:{port}\nauth:\n  htpasswd:\n"
                   f"    realm: test\n    path: {htpasswd}\n")
    proc = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(50):
        if subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}/v2/"]).returncode == 0:
            break
        time.sleep(0.1)
    yield f"127.0.0.1:{port}", user, password
    proc.kill()
    proc.wait()


@pytest.mark.engine_independent
def test_credentials_come_only_from_the_docker_store_and_never_leak(engine, example_repo, auth_registry):
    address, user, password = auth_registry
    image = f"{address}/acme/worker"
    refused = subprocess.run(deploy_argv(image), cwd=example_repo, capture_output=True, text=True, timeout=600)
    assert "docker login" in one_line_error(refused)
    login = subprocess.run(["docker", "login", address, "-u", user, "--password-stdin"], input=password,
                           capture_output=True, text=True)
    assert login.returncode == 0, login.stderr
    deployed = subprocess.run(deploy_argv(image), cwd=example_repo, capture_output=True, text=True, timeout=600)
    assert deployed.returncode == 0, deployed.stderr[-1500:]
    verified = subprocess.run([*FRESHBIN, "verify", "--image", image, "--target", "worker", "--quick", "--json"],
                              cwd=example_repo, capture_output=True, text=True, timeout=600)
    assert json.loads(verified.stdout)["verdict"] == "fresh", verified.stderr[-1500:]
    secrets = [password, base64.b64encode(f"{user}:{password}".encode()).decode()]
    outputs = [refused.stdout, refused.stderr, deployed.stdout, deployed.stderr, verified.stdout, verified.stderr]
    outputs += [p.read_text(errors="replace") for p in (example_repo / ".freshbin").iterdir() if p.is_file()]
    for text in outputs:
        for secret in secrets:
            assert secret not in text
