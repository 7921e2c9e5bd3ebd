"""botocore sessions that share what botocore reads from its data files.

A botocore session parses the service's model, its endpoint rules and the partitions from JSON
the first time it makes a client: 80 to 180 ms of CPU for S3 on this project's 2-core machine,
and the parsed dictionaries become garbage the collector walks later. Spaceport makes a client
per connection, per commit run and per commit slice, so every session here reads through one
loader, which parses each file once per process; a client then costs about 12 ms. What belongs
to a session stays its own: credentials, event handlers and parser settings.

Sharing is safe because botocore only reads what the loader returns, and the loader's cache is a
dictionary whose worst race is the same file parsed twice.
"""

from __future__ import annotations

import functools

import botocore.session
from botocore import UNSIGNED
from botocore.config import Config
from botocore.loaders import Loader, create_loader


@functools.cache
def shared_loader() -> Loader:
    return create_loader()


def botocore_session() -> botocore.session.Session:
    """A new botocore session reading models through the process's one loader."""
    session = botocore.session.Session()
    session.register_component("data_loader", shared_loader())
    return session


def load_models() -> None:
    """Parse now what S3 and STS clients will need (models, endpoint rules, paginators), without a
    request: a long-running process does it before start-up's objects leave the collector's view
    (``spaceport.heap``), so the parsed models, which live as long as the process, go with them."""
    unsigned = Config(signature_version=UNSIGNED)
    botocore_session().create_client("sts", region_name="us-east-1", config=unsigned)
    s3 = botocore_session().create_client("s3", region_name="us-east-1", config=unsigned)
    s3.get_paginator("list_objects_v2")
