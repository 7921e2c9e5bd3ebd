"""Where the portal is and which token to use: a flag first, then the environment, then a file.

The file (``~/.config/spaceport/config``, or under ``$XDG_CONFIG_HOME``) keeps the token out of
shell history and out of ``~/.aws/config``, which people share and paste into tickets.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass, field
from pathlib import Path

from spaceport_cli.errors import CONFIGURATION, ClientError

SECTION = "default"


@dataclass(frozen=True)
class Portal:
    url: str
    token: str = field(repr=False)


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "spaceport" / "config"


def read_file(path: Path, *, named: bool) -> dict[str, str]:
    """The ``[default]`` section of the file; a file named on the command line must exist."""
    if not path.is_file():
        if named:
            raise ClientError(f"The configuration file {path} (--config) does not exist.", CONFIGURATION)
        return {}
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeError) as exc:
        raise ClientError(
            f"The configuration file {path} is not an INI file: {exc.__class__.__name__}.", CONFIGURATION
        ) from None
    return dict(parser[SECTION]) if parser.has_section(SECTION) else {}


def resolve(url: str | None, token: str | None, config: str | None) -> Portal:
    path = Path(config).expanduser() if config else config_path()
    stored = read_file(path, named=config is not None)
    url = url or os.environ.get("SPACEPORT_URL") or stored.get("url")
    token = token or os.environ.get("SPACEPORT_TOKEN") or stored.get("token")
    if not url:
        raise ClientError(
            f"No portal address: pass --url, set SPACEPORT_URL, or write 'url = ...' under [{SECTION}] in {path}.",
            CONFIGURATION,
        )
    if not url.startswith(("https://", "http://")):
        raise ClientError(f"--url must start with https:// (got {url!r}).", CONFIGURATION)
    if not token:
        raise ClientError(
            f"No API token: set SPACEPORT_TOKEN, write 'token = ...' under [{SECTION}] in {path}, or pass --token. "
            "Create one on the portal's API tokens page.",
            CONFIGURATION,
        )
    return Portal(url=url.rstrip("/"), token=token.strip())
