"""Image references and tags, validated by the OCI distribution reference grammar before use."""

from __future__ import annotations

import re

from .errors import UsageError

_HOST_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_HOST_COMPONENT}(?:\.{_HOST_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_NAME = re.compile(rf"^(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
NAME_MAX = 255


def validate_repository(image: str) -> str:
    """`image` must be a repository name without tag or digest (the tag comes from --tag)."""
    if not image:
        raise UsageError("no image given; pass --image REGISTRY/NAME, or set `image:` in the `freshbin:` section "
                         "of freshbin.yaml (invoke.yaml when run by `invoke`), or FRESHBIN_IMAGE")
    if "@" in image or _has_tag(image):
        raise UsageError(f"--image {image!r} must not carry a tag or digest; pass the tag with --tag")
    if len(image) > NAME_MAX:
        raise UsageError(f"--image is too long ({len(image)} characters; the limit is {NAME_MAX}): {image[:40]!r}…")
    if not _NAME.match(image):
        raise UsageError(
            f"--image {image!r} is not a valid image repository (lowercase path components, "
            "optional registry host[:port]), e.g. 127.0.0.1:5000/acme/api"
        )
    return image


def _has_tag(image: str) -> bool:
    last = image.rsplit("/", 1)[-1]
    return ":" in last and "/" in image or (":" in image and "/" not in image)


def validate_tag(tag: str) -> str:
    if not _TAG.match(tag or ""):
        raise UsageError(
            f"--tag {tag!r} is not a valid tag (1-128 of letters, digits, '_', '.', '-', not starting with '.' or '-')"
        )
    return tag


_CONTEXT = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.+-]{0,127}$")  # the Docker CLI's context-name rule


def validate_docker_context(name: str) -> str:
    """A Docker context name as `docker context create` accepts it (empty: none given)."""
    if name and not _CONTEXT.match(name):
        raise UsageError(f"--docker-context {name[:40]!r} is not a Docker context name (letters, digits, '_', '.', "
                         "'+', '-', starting with a letter or digit); see `docker context ls`")
    return name


def validate_build_arg(arg: str) -> tuple[str, str]:
    name, sep, value = arg.partition("=")
    if not sep or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name) or "\n" in value:
        raise UsageError(f"--build-arg {arg!r} must be NAME=value (NAME: letters, digits, '_'; one line)")
    return name, value
