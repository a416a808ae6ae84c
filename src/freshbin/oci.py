"""A small OCI distribution client on top of oras-py: blobs, manifests, tags and referrers.

oras-py supplies the HTTP session, the Docker config's credentials (`auths`, `credHelpers`,
`credsStore`) and the 401 challenge handling; this module adds what it lacks: the OCI 1.1
referrers API (`GET /v2/<name>/referrers/<digest>`) and its tag-schema fallback (tag
`sha256-<hex>` holding an index of the referrers) for registries without that API, such as
the distribution registry 2.8.  The fallback index is read-modify-write and shared by every
writer, so `attach` re-reads after writing and retries until its descriptor is in it.

Connections, credentials and the oras client live in oci_client.py.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import dataclass, field

from .oci_client import RegistryError, client_for, insecure_host, reason, registry_message, split_image

__all__ = ["Descriptor", "RegistryError", "Repository", "fallback_tag", "insecure_host", "split_image"]
from typing import TYPE_CHECKING, Any, Literal, overload

if TYPE_CHECKING:  # oras and requests load when a registry is first used
    import requests

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST_TYPES = (MANIFEST, INDEX, "application/vnd.docker.distribution.manifest.v2+json",
                  "application/vnd.docker.distribution.manifest.list.v2+json")
EMPTY_JSON = b"{}"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY: dict[str, Any] = {"mediaType": EMPTY_TYPE, "digest": "sha256:" + hashlib.sha256(EMPTY_JSON).hexdigest(),
                         "size": len(EMPTY_JSON)}
INDEX_ATTEMPTS = 12


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    artifact_type: str = ""
    annotations: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.artifact_type:
            data["artifactType"] = self.artifact_type
        if self.annotations:
            data["annotations"] = dict(self.annotations)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Descriptor:
        return cls(str(data.get("mediaType", "")), str(data.get("digest", "")), int(data.get("size", 0)),
                   str(data.get("artifactType", "")), dict(data.get("annotations") or {}))


def fallback_tag(digest: str) -> str:
    """The referrers tag schema: `<alg>-<hex>`, at most 128 characters."""
    return digest.replace(":", "-", 1)[:128]


class Repository:
    """One repository of one registry, with the user's Docker credentials."""

    def __init__(self, image: str):
        self.host, self.name = split_image(image)
        self._client = client_for(self.host, self.name)
        self._base = f"{'http' if insecure_host(self.host) else 'https'}://" \
                     f"{'registry-1.docker.io' if self.host == 'docker.io' else self.host}/v2/{self.name}"

    @overload
    def _request(self, method: str, path: str, *, data: bytes | None = ..., headers: dict[str, Any] | None = ...,
                 ok: tuple[int, ...] = ..., missing_ok: Literal[False] = ..., stream: bool = ...) -> requests.Response: ...

    @overload
    def _request(self, method: str, path: str, *, data: bytes | None = ..., headers: dict[str, Any] | None = ...,
                 ok: tuple[int, ...] = ..., missing_ok: Literal[True], stream: bool = ...) -> requests.Response | None: ...

    def _request(self, method: str, path: str, *, data: bytes | None = None, headers: dict[str, Any] | None = None,
                 ok: tuple[int, ...] = (200,), missing_ok: bool = False, stream: bool = False) -> requests.Response | None:
        """The registry's answer; None for a 404 when `missing_ok`; RegistryError for any other
        status outside `ok` or no answer.  With `stream` the body is left unread for the caller."""
        import requests  # imported by oras already

        url = path if path.startswith("http") else f"{self._base}/{path}"
        try:
            response: requests.Response = self._client.do_request(url, method, data=data, headers=dict(headers or {}),
                                                                  stream=stream)
        except (requests.RequestException, ValueError, OSError) as exc:  # unreachable, bad answer, helper failed
            raise RegistryError(f"{self.host} did not answer {method} ({reason(exc)})") from None
        if missing_ok and response.status_code == 404:
            return None
        if response.status_code not in ok:
            where = url.split("/v2/", 1)[-1].split("?")[0][:80]
            raise RegistryError(f"{self.host} answered {response.status_code} to {method} {where}"
                                f"{registry_message(response)}", response.status_code)
        return response

    def resolve(self, reference: str) -> Descriptor | None:
        """The descriptor of the manifest `reference` (tag or digest) names; None when absent."""
        response = self._request("HEAD", f"manifests/{reference}", headers={"Accept": ", ".join(MANIFEST_TYPES)},
                                 missing_ok=True)
        if response is None:
            return None
        digest = response.headers.get("Docker-Content-Digest", "")
        if not digest:  # a HEAD without the digest header: fetch the bytes and hash them
            found = self.manifest(reference)
            return found[1] if found else None
        return Descriptor(response.headers.get("Content-Type", MANIFEST), digest,
                          int(response.headers.get("Content-Length", 0)))

    def manifest(self, reference: str) -> tuple[dict[str, Any], Descriptor] | None:
        response = self._request("GET", f"manifests/{reference}", headers={"Accept": ", ".join(MANIFEST_TYPES)},
                                 missing_ok=True)
        if response is None:
            return None
        body = response.content
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        media_type = response.headers.get("Content-Type", MANIFEST).split(";")[0]
        return json.loads(body), Descriptor(media_type, digest, len(body))

    def blob(self, digest: str) -> bytes:
        body = self._request("GET", f"blobs/{digest}").content
        if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
            raise RegistryError(f"{self.host} served blob {digest[:19]} with other content")
        return body

    def blob_stream(self, digest: str) -> requests.Response:
        """The blob's answer with its body unread (`.raw`): a layer is hashed and untarred as it
        arrives, never held whole.  The caller checks the digest and closes the response."""
        return self._request("GET", f"blobs/{digest}", stream=True)

    def tags(self) -> list[str]:
        """Every tag of the repository (following `Link` pagination)."""
        tags: list[str] = []
        url = "tags/list?n=1000"
        while url:
            response = self._request("GET", url, missing_ok=True)
            if response is None:
                break
            tags += response.json().get("tags") or []
            link = response.headers.get("Link", "")
            url = link.split(";")[0].strip("<> ") if link else ""
            if url.startswith("/"):
                url = self._base.split("/v2/")[0] + url
        return tags

    def has_referrers_api(self) -> bool:
        """OCI 1.1: a registry with the referrers API never answers 404 there (an unknown subject
        gets an empty index), so one request with any digest tells."""
        response = self._request("GET", f"referrers/{EMPTY['digest']}", missing_ok=True, ok=(200, 400, 405))
        return response is not None and response.status_code == 200 \
            and response.headers.get("Content-Type", "").startswith(INDEX)

    def referrers(self, digest: str, artifact_type: str = "", *, api: bool | None = None) -> list[Descriptor]:
        """Manifests whose `subject` is `digest`, from the referrers API or the fallback tag."""
        if api is None:
            api = self.has_referrers_api()
        if api:
            query = f"?artifactType={artifact_type}" if artifact_type else ""
            index = self._request("GET", f"referrers/{digest}{query}").json()
        else:
            found = self.manifest(fallback_tag(digest))
            index = found[0] if found else {}
        descriptors = [Descriptor.from_json(m) for m in index.get("manifests") or [] if isinstance(m, dict)]
        return [d for d in descriptors if not artifact_type or d.artifact_type == artifact_type]

    def push_blob(self, data: bytes, media_type: str) -> Descriptor:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if self._request("HEAD", f"blobs/{digest}", missing_ok=True) is None:
            start = self._request("POST", "blobs/uploads/", ok=(202,))
            location = start.headers.get("Location", "")
            if location.startswith("/"):
                location = self._base.split("/v2/")[0] + location
            joiner = "&" if "?" in location else "?"
            self._request("PUT", f"{location}{joiner}digest={digest}", data=data, ok=(201,),
                          headers={"Content-Type": "application/octet-stream", "Content-Length": str(len(data))})
        return Descriptor(media_type, digest, len(data))

    def push_manifest(self, manifest: dict[str, Any], reference: str = "") -> tuple[Descriptor, bool]:
        """Upload `manifest` (by digest unless `reference` is a tag); (descriptor, did the registry
        answer `OCI-Subject`, i.e. index it for the referrers API)."""
        body = json.dumps(manifest, separators=(",", ":"), sort_keys=True).encode()
        desc = Descriptor(manifest["mediaType"], "sha256:" + hashlib.sha256(body).hexdigest(), len(body),
                          manifest.get("artifactType", ""), dict(manifest.get("annotations") or {}))
        response = self._request("PUT", f"manifests/{reference or desc.digest}", data=body, ok=(201,),
                                 headers={"Content-Type": desc.media_type})
        return desc, bool(response.headers.get("OCI-Subject"))

    def attach(self, subject: Descriptor, artifact_type: str, payload: bytes,
               annotations: dict[str, str]) -> tuple[Descriptor, str]:
        """Push `payload` as an artifact whose subject is `subject`: (its descriptor, how it is found)."""
        layer = self.push_blob(payload, artifact_type)
        self.push_blob(EMPTY_JSON, EMPTY_TYPE)
        manifest = {"schemaVersion": 2, "mediaType": MANIFEST, "artifactType": artifact_type, "config": EMPTY,
                    "layers": [layer.to_json()], "subject": subject.to_json(), "annotations": annotations}
        desc, indexed = self.push_manifest(manifest)
        if indexed:
            return desc, "referrers API"
        self._add_to_fallback_index(subject.digest, desc)
        return desc, "tag schema"

    def _add_to_fallback_index(self, subject: str, desc: Descriptor) -> None:
        """Read-modify-write the shared `sha256-<hex>` index until it holds our descriptor and has
        stayed unchanged for a pause (a few times our own round trip).

        A writer that read the index before our write may put it back without us; while other
        writers keep changing it, we keep checking (and re-adding), so a burst of concurrent
        deploys ends with every record in the index.
        """
        tag = fallback_tag(subject)
        for _ in range(INDEX_ATTEMPTS):
            started = time.monotonic()
            current = self.manifest(tag)
            manifests = list((current[0].get("manifests") or []) if current else [])
            if current is not None and any(m.get("digest") == desc.digest for m in manifests):
                written = current[1].digest
            else:
                manifests.append(desc.to_json())
                written = self.push_manifest({"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests},
                                             tag)[0].digest
            pause = min(1.0, max(0.02, 3 * (time.monotonic() - started)))
            time.sleep(pause * (1 + random.random()))
            check = self.manifest(tag)
            if check and check[1].digest == written:
                return  # ours, and quiet since
        final = self.manifest(tag)
        if not (final and any(m.get("digest") == desc.digest for m in final[0].get("manifests") or [])):
            raise RegistryError(f"the referrers index {tag} kept losing this deploy's record after "
                                f"{INDEX_ATTEMPTS} writes (too many concurrent writers)")
