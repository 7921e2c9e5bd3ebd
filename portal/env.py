"""Typed readers for the environment.

Only the settings module calls these; everything else reads ``django.conf.settings``.
Each secret can also come from a file named by ``<NAME>_FILE`` so that container
secrets never have to pass through the environment itself.
"""

from __future__ import annotations

import ipaddress
import os
import re
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """Return ``name`` from the environment, or from the file named by ``name_FILE``."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            with open(file_path, encoding="utf-8") as handle:
                return handle.read().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE points at {file_path!r}, which cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    """Read a boolean, refusing anything that is not clearly yes or no."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    """Read an integer, naming the variable when the value is not one."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from exc


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """Read a comma-separated list (secrets allowed, through ``name_FILE``)."""
    raw = env_str(name)
    if not raw:
        return list(default or [])
    return [item.strip() for item in raw.replace("\n", ",").split(",") if item.strip()]


PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)


def env_pem_blocks(name: str) -> list[str]:
    """Read one or more PEM blocks (concatenated, as key files usually are), in order."""
    raw = env_str(name)
    if not raw:
        return []
    blocks = [match.group(0) + "\n" for match in PEM_BLOCK.finditer(raw.replace("\\n", "\n"))]
    if not blocks:
        raise ImproperlyConfigured(f"{name} must hold one or more PEM blocks (-----BEGIN ... PRIVATE KEY-----).")
    return blocks


def env_networks(name: str, default: list[str] | None = None) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Read a comma-separated list of networks in CIDR form, naming the entry that is not one.

    ``none`` stands for an empty list where the default is not empty.
    """
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    items = env_list(name, default)
    if [item.lower() for item in items] == ["none"]:
        return networks
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item, strict=True))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{name} must list networks such as 10.20.0.0/16 or fd12:3456::/48; {item!r} is not one ({exc})"
            ) from exc
    return networks


def env_url_list(name: str, default: list[str], *, origins: bool = False) -> list[str]:
    """Read a comma-separated list of http(s) URLs, normalized, failing at start-up on a bad entry.

    ``origins`` keeps only scheme, host and port and accepts https only (Entra ID authorities); a
    bare host name means https.
    """
    entries = env_list(name, default)
    urls: list[str] = []
    for entry in entries:
        candidate = entry if "://" in entry else f"https://{entry}"
        parts = urlsplit(candidate.rstrip("/"))
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.query:
            raise ImproperlyConfigured(f"{name} holds {entry!r}, which is not an http(s) URL with a host.")
        if origins and parts.scheme != "https":
            raise ImproperlyConfigured(f"{name} holds {entry!r}; only https URLs are accepted here.")
        try:
            port = parts.port
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name} holds {entry!r}, whose port is not a number.") from exc
        origin = f"{parts.scheme}://{parts.hostname}{f':{port}' if port else ''}"
        urls.append(origin if origins else origin + parts.path)
    if not urls:
        raise ImproperlyConfigured(f"{name} must name at least one URL.")
    return urls
