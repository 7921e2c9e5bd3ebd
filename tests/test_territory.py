"""One bucket and path (one Azure storage account) belongs to at most one organization's connection in use."""

from __future__ import annotations

from typing import Any

import pytest

from connections import lifecycle
from connections.methods import ConnectionInputError, Method, Provider
from connections.models import CloudConnection, Status
from connections.territory import Territory, territory_of
from portal.tenancy.changes import create_organization
from portal.tenancy.models import Organization
from tests.conftest import assert_api_error
from tests.connection_inputs import VALID_INPUTS

STORE = "https://s3.vast.example.com"


@pytest.fixture
def globex(outsider: Any) -> Organization:
    return create_organization(name="globex", display_name="Globex", owner=outsider)


def store_values(bucket: str = "shared", prefix: str = "", endpoint: str = STORE) -> dict[str, Any]:
    return {
        "endpoint": endpoint,
        "bucket": bucket,
        "prefix": prefix,
        "access_key_id": "SPACEPORTKEY",
        "secret_access_key": "store-secret-value",
    }


def connect(
    organization: Organization, name: str = "store", *, validate: bool = True, **values: Any
) -> CloudConnection:
    return lifecycle.create_connection(
        organization, name=name, method=Method.S3_STATIC_KEYS, values=store_values(**values), validate=validate
    )


def territory(provider: str, method: str, config: dict[str, Any], secret: dict[str, Any] | None = None) -> Any:
    return territory_of(CloudConnection(provider=provider, method=method, config=config, secret=secret))


def test_overlap_is_one_path_inside_the_other_in_the_same_bucket() -> None:
    base = Territory("s3:store", "b", "data/")
    assert base.overlaps(Territory("s3:store", "b", "data/"))
    assert base.overlaps(Territory("s3:store", "b", "data/raw/"))
    assert base.overlaps(Territory("s3:store", "b", ""))
    assert not base.overlaps(Territory("s3:store", "b", "database/"))
    assert not base.overlaps(Territory("s3:store", "other", "data/"))
    assert not base.overlaps(Territory("s3:elsewhere", "b", "data/"))


def test_where_each_provider_keeps_its_territory() -> None:
    public = "DefaultEndpointsProtocol=https;AccountName=AcmeData;AccountKey=a2V5;EndpointSuffix=core.windows.net"
    assert territory(Provider.AZURE, Method.AZURE_CONNECTION_STRING, {}, {"connection_string": public}) == territory(
        Provider.AZURE, Method.AZURE_SERVICE_PRINCIPAL, {"account_url": "https://acmedata.blob.core.windows.net/"}
    )
    azurite = "AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
    assert territory(Provider.AZURE, Method.AZURE_CONNECTION_STRING, {}, {"connection_string": azurite}) == Territory(
        "azure:127.0.0.1:10000/devstoreaccount1", ""
    )
    aws = {"bucket": "b", "region": "eu-central-1"}
    assert territory(Provider.AWS, Method.AWS_CROSS_ACCOUNT_ROLE, aws) == territory(
        Provider.AWS, Method.AWS_ACCESS_KEYS, {**aws, "endpoint_url": "https://s3.eu-central-1.amazonaws.com"}
    )
    assert territory(
        Provider.IBM,
        Method.IBM_HMAC,
        {"endpoint": "https://s3.eu-de.cloud-object-storage.appdomain.cloud", "bucket": "b"},
    ) == territory(
        Provider.IBM,
        Method.IBM_API_KEY,
        {"endpoint": "https://s3.us-south.cloud-object-storage.appdomain.cloud", "bucket": "b"},
    )
    assert territory(Provider.GCP, Method.GCP_DIRECT_IAM, {"bucket": "b", "prefix": "p/"}) == Territory(
        "gcs", "b", "p/"
    )


def test_a_second_organization_cannot_connect_the_same_bucket(organization: Organization, globex: Organization) -> None:
    connect(organization)
    with pytest.raises(ConnectionInputError) as refused:
        connect(globex)
    assert set(refused.value.errors) == {"bucket"}
    assert "another organization" in refused.value.errors["bucket"]
    assert "acme" not in refused.value.errors["bucket"].lower()
    assert not CloudConnection.objects.filter(organization=globex).exists()


def test_nested_paths_overlap_and_separate_ones_do_not(organization: Organization, globex: Organization) -> None:
    connect(organization, prefix="data/")
    with pytest.raises(ConnectionInputError) as refused:
        connect(globex, prefix="data/globex/")
    assert set(refused.value.errors) == {"prefix"}
    with pytest.raises(ConnectionInputError):
        connect(globex, name="whole")
    connect(globex, name="apart", prefix="globex/")
    connect(globex, name="elsewhere", endpoint="https://minio.globex.example.com")


def test_the_same_organization_may_connect_a_bucket_twice(organization: Organization) -> None:
    connect(organization, name="first")
    connect(organization, name="second")
    assert CloudConnection.objects.filter(organization=organization).count() == 2


def test_disabling_releases_the_bucket_and_enabling_claims_it_again(
    organization: Organization, globex: Organization
) -> None:
    first = connect(organization)
    lifecycle.disable_connection(first)
    connect(globex)

    with pytest.raises(ConnectionInputError) as refused:
        lifecycle.enable_connection(first)
    assert set(refused.value.errors) == {"bucket"}
    first.refresh_from_db()
    assert first.status == Status.DISABLED


def test_drafts_hold_nothing_until_they_are_submitted(organization: Organization, globex: Organization) -> None:
    draft = connect(organization, validate=False)
    assert draft.status == Status.DRAFT
    connect(globex)
    with pytest.raises(ConnectionInputError):
        lifecycle.start_validation(draft)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_moving_a_connection_onto_another_organizations_bucket_is_refused(
    organization: Organization, globex: Organization
) -> None:
    connect(organization, bucket="acme-only")
    theirs = connect(globex, bucket="globex-only")
    with pytest.raises(ConnectionInputError) as refused:
        lifecycle.update_connection(theirs, values=store_values(bucket="acme-only"))
    assert set(refused.value.errors) == {"bucket"}
    theirs.refresh_from_db()
    assert theirs.config["bucket"] == "globex-only"


def test_the_api_names_the_field_and_not_the_other_organization(
    api: Any, owner: Any, outsider: Any, organization: Organization, globex: Organization
) -> None:
    values = {"connection_string": VALID_INPUTS["azure_connection_string"]["connection_string"]}
    body = {"name": "blob", "method": "azure_connection_string", "values": values}
    assert api(owner).post("/api/v1/organizations/acme/connections/", body, format="json").status_code == 201

    response = api(outsider).post("/api/v1/organizations/globex/connections/", body, format="json")

    assert_api_error(response, 400, "values.connection_string")
    assert "acme" not in response.content.decode().lower()
    assert not CloudConnection.objects.filter(organization=globex).exists()
