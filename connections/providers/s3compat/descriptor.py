"""S3-compatible stores (VAST, MinIO, Ceph, ...) as Spaceport sees them."""

from __future__ import annotations

from connections.providers.descriptor import ProviderDescriptor, Tile
from connections.providers.s3.instructions import store_user_steps
from connections.providers.s3.presigned import KIND, PER_USER, SECRET_LABELS, SNIPPET_LABELS
from connections.providers.s3.revocation import presigned_urls
from connections.providers.s3compat.client import build_client
from connections.providers.s3compat.methods import METHODS, PROVIDER
from connections.providers.s3compat.vendor import build_vendor
from connections.providers.territories import s3_store

S3COMPAT = ProviderDescriptor(
    key=PROVIDER,
    label="S3-compatible (VAST, MinIO, Ceph, ...)",
    tile=Tile(
        "S3-compatible store",
        "S3",
        "VAST, MinIO, Ceph or any store that speaks the S3 API, reached with a static key pair.",
    ),
    methods=METHODS,
    build_client=build_client,
    build_vendor=build_vendor,
    territory=s3_store("", ""),
    draft_name="s3-store",
    per_user=PER_USER,
    presigned=True,
    kind_labels={KIND: "Presigned URLs"},
    secret_labels=SECRET_LABELS,
    snippet_labels=SNIPPET_LABELS,
    instructions=store_user_steps,
    revocability=presigned_urls,
)
