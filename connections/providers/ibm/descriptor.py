"""IBM Cloud Object Storage as Spaceport sees it."""

from __future__ import annotations

from connections.providers.descriptor import ProviderDescriptor, Tile
from connections.providers.ibm.client import build_client
from connections.providers.ibm.methods import METHODS, PROVIDER
from connections.providers.ibm.revocation import revocability
from connections.providers.ibm.vendor import build_vendor
from connections.providers.s3.instructions import store_user_steps
from connections.providers.s3.presigned import KIND, PER_USER, SECRET_LABELS, SNIPPET_LABELS
from connections.providers.territories import s3_store

IBM = ProviderDescriptor(
    key=PROVIDER,
    label="IBM Cloud Object Storage",
    tile=Tile("IBM Cloud Object Storage", "IBM", "A COS bucket, reached with a service ID's API key or HMAC keys."),
    methods=METHODS,
    build_client=build_client,
    build_vendor=build_vendor,
    territory=s3_store("", ".cloud-object-storage.appdomain.cloud"),
    draft_name="ibm-cos",
    per_user=PER_USER,
    presigned=True,
    kind_labels={KIND: "Presigned URLs"},
    secret_labels=SECRET_LABELS,
    snippet_labels=SNIPPET_LABELS,
    instructions=store_user_steps,
    revocability=revocability,
)
