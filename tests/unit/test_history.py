"""history and oci against a small in-process registry on 127.0.0.1: the OCI 1.1 referrers API
path (which the distribution registry used by the e2e tests lacks), the tag-schema fallback,
concurrent writers, a registry refusing artifacts, basic auth from DOCKER_CONFIG, no registry."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import socket
import threading
import time
import uuid

import pytest

from freshbin import history, ledger, oci

INDEX = "application/vnd.oci.image.index.v1+json"


class FakeRegistry(http.server.ThreadingHTTPServer):
    def __init__(self, *, referrers: bool, refuse_artifacts: bool = False, credentials: str = "",
                 failing_writes: int = 0):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.referrers, self.refuse_artifacts, self.credentials = referrers, refuse_artifacts, credentials
        self.failing_writes = failing_writes  # PUTs answered 500 first, as a registry under racing writers does
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[str, tuple[str, bytes]] = {}
        self.tags: dict[str, str] = {}
        self.requests: list[str] = []
        self.lock = threading.Lock()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: FakeRegistry

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _route(self) -> None:
        reg = self.server
        reg.requests.append(f"{self.command} {self.path}")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if reg.credentials and self.headers.get("Authorization") != f"Basic {reg.credentials}":
            return self._send(401, headers={"WWW-Authenticate": 'Basic realm="fake"'})
        path, _, query = self.path.partition("?")
        if path == "/v2/":
            return self._send(200)
        for kind in ("/blobs/uploads/", "/blobs/", "/manifests/", "/referrers/", "/tags/list"):
            if kind in path:
                ref = path.split(kind, 1)[1]
                break
        else:
            return self._send(404)
        with reg.lock:
            if self.command == "PUT" and reg.failing_writes > 0:
                reg.failing_writes -= 1
                return self._send(500, b'{"errors":[{"code":"UNKNOWN","message":"unknown error"}]}')
            return getattr(self, "_" + kind.strip("/").replace("/", "_"))(ref, body, query)

    do_GET = do_HEAD = do_PUT = do_POST = _route

    def _blobs_uploads(self, ref, body, query):
        if self.command == "POST":
            return self._send(202, headers={"Location": f"/v2/x/blobs/uploads/{uuid.uuid4().hex}"})
        digest = dict(p.split("=", 1) for p in query.split("&"))["digest"]
        assert digest == "sha256:" + hashlib.sha256(body).hexdigest()
        self.server.blobs[digest] = body
        return self._send(201)

    def _blobs(self, ref, body, query):
        return self._send(200, self.server.blobs[ref]) if ref in self.server.blobs else self._send(404)

    def _manifests(self, ref, body, query):
        reg = self.server
        if self.command == "PUT":
            manifest = json.loads(body)
            if reg.refuse_artifacts and "subject" in manifest:
                return self._send(400, json.dumps({"errors": [{"code": "MANIFEST_INVALID",
                                                               "message": "artifacts not allowed"}]}).encode())
            time.sleep(0.005)  # a writer's window, so concurrent index writes really overlap
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
            reg.manifests[digest] = (self.headers["Content-Type"], body)
            if not ref.startswith("sha256:"):
                reg.tags[ref] = digest
            headers = {"Docker-Content-Digest": digest}
            if reg.referrers and "subject" in manifest:
                headers["OCI-Subject"] = manifest["subject"]["digest"]
            return self._send(201, headers=headers)
        digest = reg.tags.get(ref, ref)
        if digest not in reg.manifests:
            return self._send(404)
        media_type, data = reg.manifests[digest]
        return self._send(200, data, {"Content-Type": media_type, "Docker-Content-Digest": digest})

    def _referrers(self, ref, body, query):
        reg = self.server
        if not reg.referrers:
            return self._send(404)
        found = []
        for digest, (media_type, data) in reg.manifests.items():
            manifest = json.loads(data)
            if (manifest.get("subject") or {}).get("digest") == ref:
                found.append({"mediaType": media_type, "digest": digest, "size": len(data),
                              "artifactType": manifest.get("artifactType", ""),
                              "annotations": manifest.get("annotations", {})})
        index = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": found}).encode()
        return self._send(200, index, {"Content-Type": INDEX})

    def _tags_list(self, ref, body, query):
        return self._send(200, json.dumps({"name": "x", "tags": sorted(self.server.tags)}).encode())


@pytest.fixture
def registry(request):
    server = FakeRegistry(**getattr(request, "param", {"referrers": True}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def push_image(image: str, tag: str) -> oci.Descriptor:
    repo = oci.Repository(image)
    config = repo.push_blob(json.dumps({"architecture": "amd64", "os": "linux", "tag": tag}).encode(),
                            "application/vnd.oci.image.config.v1+json")
    desc, _ = repo.push_manifest({"schemaVersion": 2, "mediaType": oci.MANIFEST, "config": config.to_json(),
                                  "layers": []}, tag)
    return desc


def record(image: str, digest: str, commit: str, time: str, **extra) -> dict:
    return {"time": time, "image": image, "tag": commit[:12], "digest": digest, "commit": commit,
            "strategy": "guard", "no_cache": False, "platform": "linux/amd64", "target": "worker",
            "builder": "default", "triggers": [f"bin/worker/f{i}.rs" for i in range(150)],
            "binary": {"path": "/usr/local/bin/worker", "sha256": "ab" * 32}, "fresh": True, "stale": False,
            "dirty": False, **extra}


def test_referrers_api_path(registry):
    image = f"{registry.address}/acme/worker"
    subject = push_image(image, "c1")
    published = history.publish(image, record(image, subject.digest, "c" * 40, "2026-01-01T00:00:00+00:00"))
    assert published.via == "referrers API" and published.note == ""
    assert not [t for t in registry.tags if t.startswith("sha256-")], "fallback tag written despite the API"
    past = history.load(image, None, full=True)
    assert past.registry == "referrers API"
    assert any(r.startswith("GET /v2/acme/worker/referrers/") for r in registry.requests)
    [found] = past.records
    assert found["commit"] == "c" * 40 and found["record"] == published.record and found["schema"] == 1
    assert len(found["triggers"]) == history.TRIGGERS_MAX and found["triggers_total"] == 150
    assert found["binary"]["sha256"] == "ab" * 32 and found["fresh"] is True
    summary = history.load(image, None).records[0]  # annotations alone: what choosing needs
    assert {k: summary[k] for k in ("commit", "target", "tag", "digest", "fresh", "stale")} == \
           {k: found[k] for k in ("commit", "target", "tag", "digest", "fresh", "stale")}


@pytest.mark.parametrize("registry", [{"referrers": True}, {"referrers": False}], indirect=True)
def test_the_tracked_tag_names_the_previous_deploy_even_when_a_newer_record_exists(registry):
    image = f"{registry.address}/acme/worker"
    old, new = push_image(image, "old"), push_image(image, "new")
    history.publish(image, record(image, old.digest, "1" * 40, "2026-01-01T00:00:00+00:00"))
    history.publish(image, record(image, new.digest, "2" * 40, "2026-01-02T00:00:00+00:00"))
    oci.Repository(image).push_manifest(json.loads(registry.manifests[old.digest][1]), "latest")
    assert history.load(image, None).previous("worker")["commit"] == "2" * 40
    tracked = history.load(image, None, tracked_tag="latest")
    assert tracked.tracked_digest == old.digest and tracked.previous("worker")["commit"] == "1" * 40
    assert [r["commit"] for r in tracked.records] == ["2" * 40, "1" * 40]


@pytest.mark.parametrize("registry", [{"referrers": False}], indirect=True)
def test_tag_schema_fallback_and_concurrent_writers_lose_nothing(registry):
    image = f"{registry.address}/acme/worker"
    subject = push_image(image, "shared")
    digests, errors = [], []

    def attach(n: int) -> None:
        try:
            published = history.publish(image, record(image, subject.digest, f"{n:040x}", f"2026-01-01T00:00:{n:02d}+00:00"))
            digests.append((published.via, published.record))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=attach, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and [via for via, _ in digests] == ["tag schema"] * 12, (errors, digests)
    past = history.load(image, None)
    assert past.registry == "tag schema"
    missing = {d for _, d in digests} - {r["record"] for r in past.records}
    assert not missing and len(past.records) == 12, f"records lost from the index: {missing}"
    assert [r["commit"] for r in past.records] == [f"{n:040x}" for n in reversed(range(12))]  # newest first
    index = json.loads(registry.manifests[registry.tags[oci.fallback_tag(subject.digest)]][1])
    assert {m["digest"] for m in index["manifests"]} == {d for _, d in digests}  # spec readers see them all too


@pytest.mark.parametrize("registry", [{"referrers": False}], indirect=True)
def test_a_record_the_shared_index_lost_is_still_found_through_its_own_tag(registry):
    """A writer paused between reading and writing the index puts back an index without ours."""
    image = f"{registry.address}/acme/worker"
    subject = push_image(image, "shared")
    first = history.publish(image, record(image, subject.digest, "1" * 40, "2026-01-01T00:00:01+00:00"))
    index_tag = oci.fallback_tag(subject.digest)
    before_second = registry.tags[index_tag]
    second = history.publish(image, record(image, subject.digest, "2" * 40, "2026-01-01T00:00:02+00:00"))
    registry.tags[index_tag] = before_second  # the paused writer's stale index wins
    assert oci.record_tag(subject.digest, second.record) in registry.tags
    past = history.load(image, None)
    assert {r["record"] for r in past.records} == {first.record, second.record}
    assert {r["commit"] for r in past.records} == {"1" * 40, "2" * 40}


@pytest.mark.parametrize("registry", [{"referrers": False, "failing_writes": 3}], indirect=True)
def test_a_registry_answering_500_to_racing_writes_still_gets_the_record(registry):
    image = f"{registry.address}/acme/worker"
    subject = push_image(image, "shared")
    published = history.publish(image, record(image, subject.digest, "1" * 40, "2026-01-01T00:00:01+00:00"))
    assert published.via == "tag schema" and published.record and not published.note
    assert [r["record"] for r in history.load(image, None).records] == [published.record]


@pytest.mark.parametrize("registry", [{"referrers": False, "refuse_artifacts": True}], indirect=True)
def test_a_registry_refusing_artifacts_costs_one_note_not_the_deploy(registry):
    image = f"{registry.address}/acme/worker"
    subject = push_image(image, "v1")
    published = history.publish(image, record(image, subject.digest, "d" * 40, "2026-01-01T00:00:00+00:00"))
    assert published.record is None and published.via == ""
    assert "only the image labels record this deploy" in published.note and "\n" not in published.note
    assert "400" in published.note


@pytest.mark.parametrize("registry", [{"referrers": False, "credentials": base64.b64encode(b"bob:s3cret-pw").decode()}],
                         indirect=True)
def test_basic_auth_from_docker_config_and_a_clear_note_without_it(registry, tmp_path, monkeypatch):
    image = f"{registry.address}/acme/worker"
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "none"))
    past = history.load(image, None)
    assert past.records == [] and "401" in past.notes[0] and "s3cret" not in past.notes[0]
    config = tmp_path / "docker"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"auths": {registry.address: {"auth": registry.credentials}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    subject = push_image(image, "v1")
    published = history.publish(image, record(image, subject.digest, "e" * 40, "2026-01-01T00:00:00+00:00"))
    assert published.via == "tag schema"
    assert [r["commit"] for r in history.load(image, None).records] == ["e" * 40]


def test_no_registry_leaves_the_ledger_and_a_note_quickly(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    image = f"127.0.0.1:{port}/acme/worker"
    path = tmp_path / "deploys.jsonl"
    ledger.append(path, record(image, "sha256:" + "1" * 64, "f" * 40, "2026-01-01T00:00:00+00:00"))
    started = time.monotonic()
    past = history.load(image, path)
    assert time.monotonic() - started < 3
    assert [r["origin"] for r in past.records] == ["ledger"] and "ledger only" in past.notes[0]
    assert history.publish(image, past.records[0]).note.startswith("the registry refused the deploy record")


def test_previous_prefers_the_tracked_tag_then_the_newest():
    records = [record("i", f"sha256:{n}", f"{n:040x}", f"2026-01-0{n}T00:00:00+00:00") for n in (1, 2, 3)]
    newest_first = history._merge([dict(r, origin="registry", record=f"m{n}") for n, r in enumerate(records)], [])
    assert history.History("i", newest_first).previous("worker")["commit"] == f"{3:040x}"
    assert history.History("i", newest_first, "latest", "sha256:2").previous("worker")["commit"] == f"{2:040x}"
    assert history.History("i", newest_first).previous("api") is None
    assert history.tracked("", "latest", ["latest"]) == "latest" and history.tracked("", "v1", ["latest"]) == ""
    assert history.tracked("prod", "v1", ["latest"]) == "prod"
    # the ledger's copy of a registry record is one deploy, not two
    mine = [dict(records[0], origin="ledger", record="m0")]
    merged = history._merge([dict(records[0], origin="registry", record="m0")], mine)
    assert len(merged) == 1 and merged[0]["origin"] == "both"


@pytest.mark.parametrize("url, source", [
    ("https://ci:tok3n@git.example.com/acme/api.git", "https://git.example.com/acme/api.git"),
    ("https://git.example.com:8443/acme/api", "https://git.example.com:8443/acme/api"),
    ("git@git.example.com:acme/api.git", "git.example.com:acme/api.git"),
    ("/srv/git/api.git", ""),
    ("file:///srv/git/api.git", ""),
    ("", ""),
])
def test_source_label_never_carries_credentials_or_local_paths(url, source):
    assert history.source_url(url) == source


@pytest.mark.parametrize("host, insecure", [("127.0.0.1:5000", True), ("127.8.0.3", True), ("localhost:5000", True),
                                            ("[::1]:5000", True), ("registry.example.com", False),
                                            ("10.0.0.1:5000", False)])
def test_only_loopback_registries_are_spoken_to_over_http(host, insecure):
    assert oci.insecure_host(host) is insecure


def test_image_names_split_like_docker():
    assert oci.split_image("127.0.0.1:5000/acme/api") == ("127.0.0.1:5000", "acme/api")
    assert oci.split_image("acme/api") == ("docker.io", "acme/api")
    assert oci.split_image("api") == ("docker.io", "library/api")
    assert oci.fallback_tag("sha256:" + "a" * 64) == "sha256-" + "a" * 64


def test_record_schema_and_its_size_stays_small_with_many_triggers():
    payload = json.dumps(history.registry_record(record("127.0.0.1:5000/acme/worker", "sha256:" + "1" * 64,
                                                        "f" * 40, "2026-01-01T00:00:00+00:00", reason="x" * 80)),
                         sort_keys=True, separators=(",", ":"))
    data = json.loads(payload)
    assert data["schema"] == history.SCHEMA and data["freshbin"]
    assert set(data) >= {"commit", "digest", "target", "platform", "binary", "triggers", "fresh", "strategy", "time"}
    assert len(payload) < 4096  # 100 triggers at most


def test_two_deploys_in_one_second_keep_their_order():
    """Records from before microsecond times share a second when two deploys ran within one: the
    ledger's line order decides; with microseconds the time alone does (verify read the older
    deploy as the newest when a cached deploy took under a second)."""
    first, second = (record("i", f"sha256:{n}", f"{n:040x}", "2026-01-01T00:00:07+00:00") for n in (1, 2))
    for remote in ([], [dict(second, origin="registry", record="m2"), dict(first, origin="registry", record="m1")]):
        mine = [dict(first, origin="ledger", record="m1" if remote else None),
                dict(second, origin="ledger", record="m2" if remote else None)]
        assert [r["commit"] for r in history._merge(remote, mine)] == [second["commit"], first["commit"]]
    precise = [record("i", f"sha256:{n}", f"{n:040x}", f"2026-01-01T00:00:07.00000{n}+00:00") for n in (1, 2)]
    merged = history._merge([dict(r, origin="registry", record=f"m{n}") for n, r in enumerate(precise)], [])
    assert [r["commit"] for r in merged] == [precise[1]["commit"], precise[0]["commit"]]
    # an old second-resolution record sorts before a newer microsecond one, and garbage sorts last
    mixed = history._merge([], [dict(precise[1], origin="ledger"), dict(first, time="2026-01-01T00:00:06+00:00"),
                                dict(second, time="yesterday")])
    assert [r["time"] for r in mixed] == [precise[1]["time"], "2026-01-01T00:00:06+00:00", "yesterday"]
