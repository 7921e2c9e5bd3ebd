"""What one CopyObject costs the worker's CPU: botocore's client against Spaceport's direct copy.

A commit sends one CopyObject per object, from one worker process whose threads share the GIL,
so the client's CPU time per request bounds how fast a commit of many small objects can go. This
measures, on a ``rclone serve s3`` store, the CPU time per CopyObject of the botocore S3 client
exactly as Spaceport configures it, and of ``S3Client.copy_object`` as a commit calls it (the
source as listed, so the request goes direct: ``connections.providers.s3.direct``).
Writes docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from support import ROOT, machine, today, write_section

sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "spaceport.settings")

import django

django.setup()

from connections.methods import Method, Provider, clean_input  # noqa: E402
from connections.models import CloudConnection  # noqa: E402
from connections.providers.base import Location, StoredObject  # noqa: E402
from connections.providers.s3compat import client as s3compat  # noqa: E402
from tests.emulators import start_rclone_s3  # noqa: E402

BUCKET = "copies"


def cpu_per_call(call: Callable[[int], None], count: int) -> tuple[float, float]:
    """CPU and wall milliseconds per call, over ``count`` calls after one warm-up."""
    call(count)
    cpu, wall = time.process_time(), time.perf_counter()
    for n in range(count):
        call(n)
    return (time.process_time() - cpu) / count * 1000, (time.perf_counter() - wall) / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=1000)
    args = parser.parse_args()

    store = start_rclone_s3(Path(tempfile.mkdtemp(prefix="spaceport-bench-copy-")))
    try:
        (store.root / BUCKET).mkdir()
        key, endpoint, region = store.key, store.endpoint_url, store.region
        values = {
            "endpoint": endpoint,
            "region": region,
            "bucket": BUCKET,
            "access_key_id": key.access_key_id,
            "secret_access_key": key.secret_access_key,
        }
        config, secret = clean_input(Method.S3_STATIC_KEYS, values)
        connection = CloudConnection(provider=Provider.S3COMPAT, method=Method.S3_STATIC_KEYS, config=config)
        connection.secret = secret
        client = s3compat.build_client(connection)
        s3 = client.s3
        for n in range(args.objects + 1):
            s3.put_object(Bucket=BUCKET, Key=f"src/{n}.bin", Body=b"x" * 1024)
        listed = {item.key: item for item in client.list_objects(Location(BUCKET), "src/")}

        def botocore_copy(n: int) -> None:
            s3.copy_object(
                Bucket=BUCKET,
                Key=f"botocore/{n}.bin",
                CopySource={"Bucket": BUCKET, "Key": f"src/{n}.bin"},
                MetadataDirective="COPY",
            )

        def commit_copy(n: int) -> None:
            expected: StoredObject = listed[f"src/{n}.bin"]
            client.copy_object(Location(BUCKET), f"src/{n}.bin", Location(BUCKET), f"direct/{n}.bin", expected=expected)

        boto_cpu, boto_wall = cpu_per_call(botocore_copy, args.objects)
        direct_cpu, direct_wall = cpu_per_call(commit_copy, args.objects)
        assert client.direct is not None and client.direct.knows(BUCKET), "the copies did not go direct"
    finally:
        store.process.stop()

    body = f"""
Measured {today()} on {machine()}; `make bench-copy`. {args.objects} CopyObject requests of 1 KiB
objects, one at a time, on one `rclone serve s3` store on this machine; CPU time is this
process's (user and system), the store's is not counted.

| client | CPU ms per CopyObject | wall ms per CopyObject | CPU ratio to botocore |
|---|---:|---:|---:|
| botocore S3 client as Spaceport configures it | {boto_cpu:.2f} | {boto_wall:.2f} | 1.00 |
| Spaceport's commit copy (`S3Client.copy_object`, direct after the first) | {direct_cpu:.2f} \
| {direct_wall:.2f} | {direct_cpu / boto_cpu:.2f} |
"""
    write_section(ROOT / "docs" / "benchmarks.md", "CopyObject request cost", body)
    print(body)


if __name__ == "__main__":
    main()
