"""What one CopyObject costs the worker's CPU: botocore's client against the bare signed request.

A commit sends one CopyObject per object, from one worker process whose threads share the GIL,
so the client's CPU time per request bounds how fast a commit of many small objects can go. This
measures, on a ``rclone serve s3`` store, the CPU time per CopyObject of the S3 client exactly
as Spaceport configures it (``connections.providers.s3common``), and of the same request
signed with botocore's own SigV4 signer and sent over a urllib3 pool. Writes docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from support import ROOT, machine, today, write_section

sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

import urllib3  # noqa: E402
from botocore.auth import S3SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

from connections.providers.s3common import s3_config, static_key_s3  # noqa: E402
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
        s3 = static_key_s3(
            endpoint_url=endpoint,
            region=region,
            access_key_id=key.access_key_id,
            secret_access_key=key.secret_access_key,
            config=s3_config(addressing_style="path", only_required_checksums=True),
            verify=False,
        )
        for n in range(args.objects + 1):
            s3.put_object(Bucket=BUCKET, Key=f"src/{n}.bin", Body=b"x" * 1024)

        def botocore_copy(n: int) -> None:
            s3.copy_object(
                Bucket=BUCKET,
                Key=f"botocore/{n}.bin",
                CopySource={"Bucket": BUCKET, "Key": f"src/{n}.bin"},
                MetadataDirective="COPY",
            )

        signer = S3SigV4Auth(Credentials(key.access_key_id, key.secret_access_key), "s3", region)
        pool = urllib3.PoolManager(maxsize=4)

        def signed_request(n: int) -> None:
            url = f"{endpoint}/{BUCKET}/{quote(f'bare/{n}.bin')}"
            headers = {"x-amz-copy-source": quote(f"{BUCKET}/src/{n}.bin"), "x-amz-metadata-directive": "COPY"}
            request = AWSRequest("PUT", url, headers=headers)
            signer.add_auth(request)
            answer = pool.request("PUT", url, headers=dict(request.headers.items()))
            if answer.status != 200 or b"<ETag>" not in answer.data:
                raise RuntimeError(f"CopyObject failed: {answer.status} {answer.data[:200]!r}")

        boto_cpu, boto_wall = cpu_per_call(botocore_copy, args.objects)
        bare_cpu, bare_wall = cpu_per_call(signed_request, args.objects)
    finally:
        store.process.stop()

    body = f"""
Measured {today()} on {machine()}; `make bench-copy`. {args.objects} CopyObject requests of 1 KiB
objects, one at a time, on one `rclone serve s3` store on this machine; CPU time is this
process's (user and system), the store's is not counted.

| client | CPU ms per CopyObject | wall ms per CopyObject | CPU ratio to botocore |
|---|---:|---:|---:|
| botocore S3 client as Spaceport configures it | {boto_cpu:.2f} | {boto_wall:.2f} | 1.00 |
| the same request, signed by botocore's SigV4 signer, sent over urllib3 | {bare_cpu:.2f} | {bare_wall:.2f} \
| {bare_cpu / boto_cpu:.2f} |
"""
    write_section(ROOT / "docs" / "benchmarks.md", "CopyObject request cost", body)
    print(body)


if __name__ == "__main__":
    main()
