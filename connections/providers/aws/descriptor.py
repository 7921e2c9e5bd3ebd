"""Amazon S3 as Spaceport sees it."""

from __future__ import annotations

from connections.providers.aws import instructions, revocation
from connections.providers.aws.client import build_client
from connections.providers.aws.methods import METHODS, PROVIDER
from connections.providers.aws.rotation import ROTATION
from connections.providers.aws.vendor import (
    KIND,
    PER_USER,
    SECRET_LABELS,
    SNIPPET_LABELS,
    build_vendor,
    profile_settings,
)
from connections.providers.descriptor import ProviderDescriptor, Tile
from connections.providers.territories import s3_store

AWS = ProviderDescriptor(
    key=PROVIDER,
    label="Amazon S3",
    tile=Tile(
        "Amazon S3",
        "AWS",
        "A bucket in your AWS account, reached through a cross-account role, OIDC web identity or access keys.",
    ),
    methods=METHODS,
    build_client=build_client,
    build_vendor=build_vendor,
    territory=s3_store("s3.amazonaws.com", ".amazonaws.com"),
    draft_name="aws-s3",
    per_user=PER_USER,
    kind_labels={KIND: "Temporary AWS keys"},
    secret_labels=SECRET_LABELS,
    snippet_labels=SNIPPET_LABELS,
    instructions=instructions.steps,
    identity=instructions.identity,
    operator_settings=instructions.OPERATOR_SETTINGS,
    revocability=revocation.revocability,
    key_rotation=ROTATION,
    aws_profile=profile_settings,
)
