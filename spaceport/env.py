"""Typed readers for the environment, over django-environ.

Only the settings module calls these; everything else reads ``django.conf.settings``. Every
variable can also come from a file named by ``<NAME>_FILE`` (which wins), so that container
secrets never have to pass through the environment itself: django-environ's ``FileAwareEnv``
finds and reads that file.

The typed getters of ``environ.Env`` are not used, for three reasons: a value starting with
``$`` is taken as the name of another variable (a generated secret or password can start with
``$``); its booleans turn anything that is not a known yes into False, where a typo in a
production flag must stop the start-up; and a file's trailing newline stays in the value. The
readers here take the raw value from django-environ and keep those rules, naming the variable
in every error.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

# Read afresh each time: settings are read once per process, and a secret file replaced by the
# orchestrator must not be answered from an earlier read.
ENVIRONMENT = environ.FileAwareEnv()
ENVIRONMENT.ENVIRON = environ.FileAwareMapping(cache=False)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def raw_value(name: str) -> str | None:
    """``name`` as set, from the file named by ``name_FILE`` first (stripped); None when unset."""
    try:
        value: str = ENVIRONMENT.ENVIRON[name]
    except KeyError:
        return None
    except OSError as exc:
        path = ENVIRONMENT.ENVIRON.env.get(f"{name}_FILE")
        raise ImproperlyConfigured(f"{name}_FILE points at {path!r}, which cannot be read: {exc}") from exc
    return value.strip() if ENVIRONMENT.ENVIRON.env.get(f"{name}_FILE") else value


def env_str(name: str, default: str = "") -> str:
    """Return ``name`` from the environment, or from the file named by ``name_FILE``."""
    value = raw_value(name)
    return default if value is None else value


def env_bool(name: str, default: bool = False) -> bool:
    """Read a boolean, refusing anything that is not clearly yes or no."""
    raw = raw_value(name)
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
    raw = raw_value(name)
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
