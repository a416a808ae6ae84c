"""The deploy history: the registry is the shared record, the local ledger a cache for offline use.

Every deploy attaches a small JSON record to the image it pushed (an OCI artifact whose `subject`
is the image manifest; see oci.py for the referrers API and its tag-schema fallback).  The
artifact's annotations repeat the fields needed to pick "the previous deploy" (commit, target,
tag, binary sha256, time), so reading the history costs one request per deployed image, and the
records themselves are fetched only when asked for (`history --json`).

`load` is the one entry point for detect, deploy and verify: the registry's records of an image
merged with the local ledger's, newest first, and which of them the tracked tag points at.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit, urlunsplit

from . import __version__, events, ledger, oci

RECORD_TYPE = "application/vnd.freshbin.deploy.v1+json"
SCHEMA = 1
TRIGGERS_MAX = 100
CREATED = "org.opencontainers.image.created"
PREFIX = "dev.freshbin."
SUMMARY_KEYS = ("commit", "subject", "target", "tag", "strategy", "platform", "stale")  # also as annotations
FALLBACK_TAG = re.compile(r"^sha256-[0-9a-f]{64}$")
READERS = 8
LOST_WITHOUT_RECORD = ("the registry refused the deploy record ({reason}); only the image labels record this "
                       "deploy: other machines will not see its binary, verdict or triggers")


@dataclass(frozen=True)
class History:
    image: str
    records: list[dict[str, Any]]  # newest first; each has "origin": registry, ledger or both
    tracked_tag: str = ""
    tracked_digest: str | None = None  # the image the tracked tag points at
    registry: str = ""  # "referrers API", "tag schema", or why the registry was not read
    notes: list[str] = field(default_factory=list)

    def for_target(self, target: str | None) -> list[dict[str, Any]]:
        return [r for r in self.records if target is None or r.get("target") == target]

    def previous(self, target: str | None = None) -> dict[str, Any] | None:
        """The deploy the tracked tag points at, else the newest record (of `target`, when given)."""
        candidates = self.for_target(target)
        if self.tracked_digest:
            tracked = [r for r in candidates if r.get("digest") == self.tracked_digest]
            if tracked:
                return tracked[0]
        return candidates[0] if candidates else None


@dataclass(frozen=True)
class Published:
    record: str | None  # digest of the record's manifest
    size: int  # bytes of the JSON record
    via: str  # "referrers API", "tag schema", or "" when refused
    note: str = ""


def tracked(tracked_tag: str, tag: str, moving_tags: Iterable[str]) -> str:
    """The tag whose image is "the previous deploy": the configured one, else the deploy's tag when it
    moves between commits (e.g. latest), else none (the newest record wins)."""
    return tracked_tag or (tag if tag and tag in tuple(moving_tags) else "")


def load(image: str, ledger_path: Path | None, *, tracked_tag: str = "", full: bool = False,
         registry: bool = True) -> History:
    """The image's deploys, registry and ledger merged, newest first.  A registry that cannot be
    read leaves the ledger's records and a note; `full` fetches every record's JSON too."""
    local = ledger.read(ledger_path) if ledger_path is not None else ledger.LedgerRead([])
    mine = [dict(r, origin="ledger") for r in local.records if r.get("image") == image]
    notes = list(local.problems)
    remote: list[dict[str, Any]] = []
    digest: str | None = None
    how = "not read"
    if registry and image:
        try:
            remote, digest, how = _registry_records(image, tracked_tag, full)
        except (oci.RegistryError, ValueError, TypeError) as exc:  # unreachable, refused, or not JSON
            how = "unreachable"
            notes.append(f"deploy history read from the local ledger only: {_cause(exc)}")
    return History(image, _merge(remote, mine), tracked_tag, digest, how, notes)


def _registry_records(image: str, tracked_tag: str, full: bool) -> tuple[list[dict[str, Any]], str | None, str]:
    repo = oci.Repository(image)
    tags = repo.tags()
    tracked = repo.resolve(tracked_tag) if tracked_tag and tracked_tag in tags else None
    api = repo.has_referrers_api()
    subjects = {"sha256:" + t[len("sha256-"):] for t in tags if FALLBACK_TAG.match(t)}
    subjects |= {f"{m[1]}:{m[2]}" for m in map(oci.RECORD_TAG.match, tags) if m}
    if api:  # records of images that still carry a tag; fallback indexes from before an upgrade too
        with ThreadPoolExecutor(READERS) as pool:
            found = pool.map(repo.resolve, [t for t in tags if not FALLBACK_TAG.match(t)
                                            and not oci.RECORD_TAG.match(t)])
            subjects |= {d.digest for d in found if d is not None}
    with ThreadPoolExecutor(READERS) as pool:
        per_subject = list(pool.map(lambda s: (s, repo.referrers(s, RECORD_TYPE, api=api, tags=tags)),
                                    sorted(subjects)))
        summaries = [_summary(image, subject, d) for subject, descs in per_subject for d in descs]
        if full:
            summaries = list(pool.map(lambda s: _full_record(repo, s), summaries))
    return summaries, tracked.digest if tracked else None, "referrers API" if api else "tag schema"


def _summary(image: str, subject: str, desc: oci.Descriptor) -> dict[str, Any]:
    """A ledger-shaped record from the artifact's annotations (no extra request)."""
    a = desc.annotations
    summary: dict[str, Any] = {key: a.get(PREFIX + key, "") for key in SUMMARY_KEYS}
    summary.update(image=image, digest=subject, time=a.get(CREATED, ""), record=desc.digest, origin="registry",
                   binary={"path": a.get(PREFIX + "binary.path", ""), "sha256": a.get(PREFIX + "binary.sha256", "")},
                   stale=a.get(PREFIX + "stale") == "true",
                   fresh={"true": True, "false": False}.get(a.get(PREFIX + "fresh", "")),
                   vouched=a.get(PREFIX + "vouched") == "true", dirty=a.get(PREFIX + "dirty") == "true",
                   build_arg_names=[n for n in a.get(PREFIX + "build_arg_names", "").split(",") if n])
    return summary


def _full_record(repo: oci.Repository, summary: dict[str, Any]) -> dict[str, Any]:
    found = repo.manifest(summary["record"])
    if found is None:
        return summary
    layers = [layer for layer in found[0].get("layers") or [] if layer.get("mediaType") == RECORD_TYPE]
    try:
        record = json.loads(repo.blob(layers[0]["digest"])) if layers else {}
    except (ValueError, oci.RegistryError):
        return summary
    return {**summary, **record, "record": summary["record"], "origin": "registry"} if isinstance(record, dict) \
        else summary


def _merge(remote: list[dict[str, Any]], local: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per deploy, newest first: a ledger line names its registry record ("record"), older
    lines match by image digest, target, tag and time; the ledger's copy keeps its fields.

    Order is by time, then by ledger line: records written before times carried microseconds
    share a second when two deploys ran within one, and the ledger appends in deploy order."""
    merged: dict[object, dict[str, Any]] = {}
    line: dict[object, int] = {}
    for index, record in enumerate(remote + local):
        key = record.get("record") or (record.get("digest"), record.get("target"), record.get("tag"),
                                       record.get("time"))
        if index >= len(remote):
            line[key] = index
        if key in merged:
            merged[key] = {**merged[key], **record, "record": merged[key].get("record") or record.get("record"),
                           "origin": "both"}
        else:
            merged[key] = record
    return [record for _, record in sorted(merged.items(), reverse=True,
                                           key=lambda item: (_when(item[1].get("time")), line.get(item[0], -1)))]


def _when(time: object) -> datetime:
    """A record's time as an aware datetime (ISO 8601, seconds or microseconds); unreadable: oldest."""
    try:
        when = datetime.fromisoformat(str(time))
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def with_subjects(records: list[dict[str, Any]], root: Path | None) -> list[dict[str, Any]]:
    """Each record with its commit's `subject`: the record's own (deploys since freshbin 0.2 keep
    it), else git's when the commit is in the clone at `root`, else ""."""
    missing = [r.get("commit") or "" for r in records if not r.get("subject")]
    from . import checkout  # git only when a record lacks its subject

    found = checkout.subjects(root, missing) if missing and root is not None else {}
    return [r if r.get("subject") else {**r, "subject": found.get(r.get("commit") or "", "")} for r in records]


def publish(image: str, record: dict[str, Any], *, source: str = "") -> Published:
    """Attach `record` to the pushed image; a registry that refuses it leaves a note, not an error."""
    verdict = {True: "fresh", False: "STALE", None: "INCONCLUSIVE"}.get(record.get("fresh"), "?")
    events.emit("judge", f"judged the shipped binary: {verdict} ({record.get('reason', '')})")
    events.emit("record", f"recording the deploy beside {image}@{str(record.get('digest', ''))[:19]}… in the registry")
    payload = json.dumps(registry_record(record, source), sort_keys=True, separators=(",", ":")).encode()
    try:
        repo = oci.Repository(image)
        subject = repo.resolve(record["digest"])
        if subject is None:
            return Published(None, len(payload), "", LOST_WITHOUT_RECORD.format(reason="the image is gone"))
        desc, via = repo.attach(subject, RECORD_TYPE, payload, record_annotations(record))
    except (oci.RegistryError, ValueError, TypeError) as exc:
        return Published(None, len(payload), "", LOST_WITHOUT_RECORD.format(reason=_cause(exc)))
    return Published(desc.digest, len(payload), via)


def _cause(exc: Exception) -> str:
    if isinstance(exc, oci.RegistryError):
        return str(exc)
    return f"the registry's answer is not valid JSON ({exc.__class__.__name__})"


def registry_record(record: dict[str, Any], source: str = "") -> dict[str, Any]:
    """The deploy record as stored in the registry: the ledger's fields, versioned."""
    out = {key: record.get(key) for key in ("time", "image", "tag", "digest", "commit", "subject", "target", "platform",
                                            "strategy", "no_cache", "builder", "binary", "fresh", "stale", "dirty",
                                            "vouched", "evidence")}
    # build args can carry secrets: the registry keeps their names, the local ledger their values
    out["build_arg_names"] = sorted(record.get("build_args") or {})
    triggers = list(record.get("triggers") or [])
    out.update(schema=SCHEMA, freshbin=__version__, triggers=triggers[:TRIGGERS_MAX],
               triggers_total=len(triggers), reason=record.get("reason", ""))
    if source:
        out["source"] = source
    return out


def record_annotations(record: dict[str, Any]) -> dict[str, str]:
    """The artifact's annotations: the summary fields `load` reads without fetching the record."""
    binary = record.get("binary") or {}
    out = {CREATED: str(record.get("time", ""))}
    out.update({PREFIX + key: str(record.get(key, "")).lower() if isinstance(record.get(key), bool)
                else str(record.get(key, "")) for key in SUMMARY_KEYS})
    out[PREFIX + "fresh"] = {True: "true", False: "false", None: ""}.get(record.get("fresh"), "")
    out[PREFIX + "binary.path"] = str(binary.get("path", ""))
    out[PREFIX + "binary.sha256"] = str(binary.get("sha256", ""))
    # what verify --quick and the next deploy's judgement read (history.load reads annotations only)
    out[PREFIX + "vouched"] = "true" if record.get("vouched") else "false"
    out[PREFIX + "dirty"] = "true" if record.get("dirty") else "false"
    out[PREFIX + "build_arg_names"] = ",".join(sorted(record.get("build_args") or {}))
    return out


def labels(source: str, strategy: str) -> dict[str, str]:
    """Image labels every registry keeps, even one that refuses artifacts: where it came from
    (`source`: source_url's answer) and how."""
    return {**({"org.opencontainers.image.source": source} if source else {}), PREFIX + "strategy": strategy}


def source_url(url: str) -> str:
    """The `origin` remote's URL as an org.opencontainers.image.source value, without
    credentials; "" for none or a local path (it names nothing another machine can open)."""
    if re.match(r"^[\w.-]+@[\w.-]+:", url):  # scp-like git@host:path
        return url.split("@", 1)[1]
    parts = urlsplit(url)
    if not parts.scheme or parts.scheme == "file" or not parts.hostname:
        return ""
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
