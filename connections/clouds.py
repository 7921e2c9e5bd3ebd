"""The clouds the wizard offers first, with the words and marks that let IT recognise theirs."""

from __future__ import annotations

from dataclasses import dataclass

from connections.methods import MethodSpec, Provider, methods_of


@dataclass(frozen=True)
class MethodChoice:
    spec: MethodSpec

    @property
    def asks(self) -> str:
        """What the customer will have to hand over, so the choice is made knowing the work."""
        return ", ".join(item.label[0].lower() + item.label[1:] for item in self.spec.fields if item.required)


@dataclass(frozen=True)
class Cloud:
    provider: str
    name: str
    mark: str
    description: str

    @property
    def methods(self) -> list[MethodChoice]:
        """Recommended methods first: the order is advice."""
        return [MethodChoice(spec) for spec in sorted(methods_of(self.provider), key=lambda spec: not spec.recommended)]


CLOUDS = (
    Cloud(
        Provider.AWS,
        "Amazon S3",
        "AWS",
        "A bucket in your AWS account, reached through a cross-account role, OIDC web identity or access keys.",
    ),
    Cloud(
        Provider.AZURE,
        "Azure Blob Storage",
        "Az",
        "A storage account, reached through an Entra ID service principal or a connection string.",
    ),
    Cloud(
        Provider.GCP,
        "Google Cloud Storage",
        "GC",
        "A bucket, reached through workload identity federation, a direct IAM binding or a service-account key.",
    ),
    Cloud(
        Provider.IBM,
        "IBM Cloud Object Storage",
        "IBM",
        "A COS bucket, reached with a service ID's API key or HMAC keys.",
    ),
    Cloud(
        Provider.S3COMPAT,
        "S3-compatible store",
        "S3",
        "VAST, MinIO, Ceph or any store that speaks the S3 API, reached with a static key pair.",
    ),
)
BY_PROVIDER = {cloud.provider: cloud for cloud in CLOUDS}


def cloud_of(provider: str) -> Cloud | None:
    return BY_PROVIDER.get(provider)
