"""What a process keeps from start-up is moved out of the garbage collector's way.

Django, Celery, botocore and the rest leave about 200,000 objects behind at start-up that live as
long as the process. CPython's collector walks every one of them on each full collection, about
110 ms on a 2-core machine, holding the interpreter lock all the while: a commit's copy threads,
its listing and a web worker's request threads all stop. A commit of 10,000 objects ran about
nine full collections, a second of its worker's CPU. ``gc.freeze`` moves what exists once
start-up is done into a generation the collector never walks; everything made later is
collected as before. Garbage is collected first, so nothing unreachable is kept for good.

botocore's S3 model alone is about 35,000 objects, parsed when the first client is made; it is
parsed before the freeze (``connections.providers.sdk``) so it leaves the collector's view too.
"""

from __future__ import annotations

import gc

from connections.providers.sdk import load_models


def freeze_startup_objects() -> None:
    """Load the SDK's models, collect once, then leave every surviving object out of later collections."""
    load_models()
    gc.collect()
    gc.freeze()
