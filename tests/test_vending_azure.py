"""The Azure vendor against Azurite, which checks every SAS signature, window and permission.

Tokens are judged by what Azurite lets them do, never by their text alone: a read token must
list and read but not write, a tampered or expired one must be refused.
"""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import jwt
import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobServiceClient, ContainerClient

from accessgrants.vending.issuing import NotVendable, issue
from connections import lifecycle
from connections.active import active_connection, with_active_connection
from connections.models import CloudConnection, Status
from connections.providers.azure import vendor as azure_vendor
from connections.providers.azure.client import AzureBlobClient
from connections.providers.azure.policies import ContainerPolicies
from connections.providers.azure.vendor import PERMISSIONS, AzureVendor, ContainerMissing, service_sas
from connections.providers.base import Location
from connections.providers.registry import forget_clients, vendor_for
from connections.providers.vending import Access, Scope, Target
from portal.audit import journal
from portal.audit.models import AuditEvent
from portal.core import snapshots
from portal.tenancy.grants import Grant, Role
from portal.tenancy.grants import Scope as GrantScope
from portal.tenancy.models import Organization, Space
from portal.tenancy.rules import AccessContext
from tests.certificates import self_signed
from tests.emulators import AZURITE_ACCOUNT, LOOPBACK, REPO, Azurite, Process, free_port

SAS_FORMAT = re.compile(
    r"^sv=2021-04-10&st=\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\dZ&se=\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\dZ"
    r"&si=spaceport-(read|write|delete)-[0-9a-f]{12}&sr=c&sig=[A-Za-z0-9%]+$"
)


def permission_of(sas: str) -> str:
    """What a token may do: the permissions of the stored access policy it names (Azurite enforces them)."""
    level = parse_qs(sas)["si"][0].split("-")[1]
    return PERMISSIONS[Access(level)]


@pytest.fixture(autouse=True)
def fresh_clients() -> None:
    forget_clients()


def ensure_containers(azurite: Azurite, *names: str) -> None:
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    for name in names:
        container = service.get_container_client(name)
        if not container.exists():
            container.create_container()


def connect_to_azurite(organization: Organization, azurite: Azurite, name: str = "azurite") -> CloudConnection:
    """The organization's storage: Azurite by connection string, validated."""
    connection = lifecycle.create_connection(
        organization,
        name=name,
        method="azure_connection_string",
        values={"connection_string": azurite.connection_string},
        validate=False,
    )
    CloudConnection.objects.filter(pk=connection.pk).update(status=Status.VALID)
    connection.refresh_from_db()
    organization.refresh_from_db()
    return connection


def seed(azurite: Azurite, container: str, data: bytes = b"seed") -> str:
    """A blob written with the account key, to read or delete with a token."""
    name = f"seed-{uuid.uuid4().hex}.txt"
    BlobServiceClient.from_connection_string(azurite.connection_string).get_blob_client(container, name).upload_blob(
        data
    )
    return name


def exists(azurite: Azurite, container: str, name: str) -> bool:
    return bool(
        BlobServiceClient.from_connection_string(azurite.connection_string).get_blob_client(container, name).exists()
    )


def refused(action: Any) -> HttpResponseError:
    with pytest.raises(HttpResponseError) as caught:
        action()
    assert caught.value.status_code == 403, caught.value
    return caught.value


@pytest.fixture
def azure_space(space: Space, azurite: Azurite) -> Space:
    """``acme/raw`` on Azurite, with its container and the loadingzone's."""
    ensure_containers(azurite, "loadingzone", "raw")
    connect_to_azurite(space.organization, azurite)
    return with_active_connection(Space.objects.filter(pk=space.pk)).get()


def scope_for(space: Space, access: str, lifetime: timedelta = timedelta(minutes=30), bucket: str = "") -> Scope:
    connection = active_connection(space.organization)
    assert connection is not None
    return Scope(
        connection=connection,
        location=Location(bucket=bucket or space.name),
        access=access,
        lifetime=lifetime,
        user_id=1,
        user_label="test",
    )


def vend(space: Space, access: str, **kwargs: Any) -> Any:
    connection = active_connection(space.organization)
    assert connection is not None
    return vendor_for(connection).vend(scope_for(space, access, **kwargs))


def test_a_read_token_lists_and_reads_but_cannot_write_or_delete(azure_space: Space, azurite: Azurite) -> None:
    name = seed(azurite, "raw", b"measurement")
    credential = vend(azure_space, Access.READ)
    assert credential.kind == "azure_sas" and credential.provider == "azure"
    sas = credential.secret["sas"]
    assert SAS_FORMAT.match(sas), sas
    assert permission_of(sas) == "rl"

    container = ContainerClient.from_container_url(credential.secret["container_url"])
    assert name in {blob.name for blob in container.list_blobs(name_starts_with="seed-")}
    assert container.download_blob(name).readall() == b"measurement"
    refused(lambda: container.upload_blob(f"new-{uuid.uuid4().hex}", b"x"))
    refused(lambda: container.delete_blob(name))
    assert exists(azurite, "raw", name)


def test_the_token_has_accessmanagers_window_and_the_location(azure_space: Space, azurite: Azurite) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    credential = vend(azure_space, Access.READ, lifetime=timedelta(minutes=17))
    fields = {k: v[0] for k, v in parse_qs(credential.secret["sas"]).items()}
    start = datetime.strptime(fields["st"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    expiry = datetime.strptime(fields["se"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= start <= datetime.now(UTC), "no backwards skew, as AccessManager"
    assert expiry - start == timedelta(minutes=17)
    assert credential.expires_at == expiry
    assert list(fields) == ["sv", "st", "se", "si", "sr", "sig"], "AccessManager's order, permissions in the policy"
    assert credential.location == {"account_url": azurite.blob_endpoint, "container": "raw", "prefix": ""}
    assert credential.secret["container_url"] == f"{azurite.blob_endpoint}/raw?{credential.secret['sas']}"


def test_a_write_token_adds_and_overwrites_but_cannot_delete(azure_space: Space, azurite: Azurite) -> None:
    credential = vend(azure_space, Access.WRITE)
    assert permission_of(credential.secret["sas"]) == "racwl"
    container = ContainerClient.from_container_url(credential.secret["container_url"])
    name = f"upload-{uuid.uuid4().hex}.csv"
    container.upload_blob(name, b"a,b\n")
    container.upload_blob(name, b"a,b,c\n", overwrite=True)
    assert container.download_blob(name).readall() == b"a,b,c\n"
    refused(lambda: container.delete_blob(name))
    assert exists(azurite, "raw", name)


def test_a_delete_token_deletes(azure_space: Space, azurite: Azurite) -> None:
    name = seed(azurite, "raw")
    credential = vend(azure_space, Access.DELETE)
    assert permission_of(credential.secret["sas"]) == "racwdl"
    ContainerClient.from_container_url(credential.secret["container_url"]).delete_blob(name)
    assert not exists(azurite, "raw", name)


def test_a_token_opens_only_its_own_container(azure_space: Space, azurite: Azurite) -> None:
    credential = vend(azure_space, Access.WRITE, bucket="loadingzone")
    sas = credential.secret["sas"]
    ContainerClient.from_container_url(f"{azurite.blob_endpoint}/loadingzone?{sas}").upload_blob(
        f"in-{uuid.uuid4().hex}", b"x"
    )
    refused(
        lambda: ContainerClient.from_container_url(f"{azurite.blob_endpoint}/raw?{sas}").upload_blob(
            f"in-{uuid.uuid4().hex}", b"x"
        )
    )


def test_an_expired_token_is_refused(azure_space: Space, azurite: Azurite) -> None:
    name = seed(azurite, "raw")
    now = datetime.now(UTC)
    fresh = service_sas(
        AZURITE_ACCOUNT, azurite.account_key, "raw", "rl", now - timedelta(minutes=1), now + timedelta(minutes=5)
    )
    ContainerClient.from_container_url(f"{azurite.blob_endpoint}/raw?{fresh}").download_blob(name).readall()
    expired = service_sas(
        AZURITE_ACCOUNT, azurite.account_key, "raw", "rl", now - timedelta(hours=2), now - timedelta(hours=1)
    )
    refused(lambda: ContainerClient.from_container_url(f"{azurite.blob_endpoint}/raw?{expired}").download_blob(name))


@pytest.mark.parametrize("tamper", ["sig", "sp", "se", "si"])
def test_a_tampered_token_is_refused(azure_space: Space, azurite: Azurite, tamper: str) -> None:
    name = seed(azurite, "raw")
    sas = vend(azure_space, Access.READ).secret["sas"]
    fields = dict(part.split("=", 1) for part in sas.split("&"))
    if tamper == "sig":
        fields["sig"] = ("B" if fields["sig"][0] == "A" else "A") + fields["sig"][1:]
    elif tamper == "sp":
        fields["sp"] = "racwdl"
    elif tamper == "si":
        fields["si"] = fields["si"].replace("read", "delete")
    else:
        fields["se"] = fields["se"].replace(fields["se"][:4], str(int(fields["se"][:4]) + 1))
    forged = "&".join(f"{k}={v}" for k, v in fields.items())
    container = ContainerClient.from_container_url(f"{azurite.blob_endpoint}/raw?{forged}")
    refused(lambda: container.download_blob(name).readall())
    refused(lambda: container.delete_blob(name))
    assert exists(azurite, "raw", name)


def test_a_missing_container_is_named(azure_space: Space) -> None:
    with pytest.raises(ContainerMissing) as caught:
        vend(azure_space, Access.READ, bucket=f"absent-{uuid.uuid4().hex[:8]}")
    assert caught.value.code == "no_such_container"


def test_a_container_in_place_is_asked_about_again_only_after_a_minute_or_a_change(
    azure_space: Space, azurite: Azurite, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = f"checked-{uuid.uuid4().hex[:8]}"
    ensure_containers(azurite, container)
    asked = []
    current = ContainerPolicies.current

    def counted(policies: ContainerPolicies, level: str, permission: str) -> str | None:
        asked.append(policies.container)
        return current(policies, level, permission)

    monkeypatch.setattr(ContainerPolicies, "current", counted)
    first = vend(azure_space, Access.READ, bucket=container).secret["sas"]
    second = vend(azure_space, Access.READ, bucket=container).secret["sas"]
    assert asked == [container], "the second SAS is signed under the policy found for the first"
    assert parse_qs(first)["si"] == parse_qs(second)["si"]
    snapshots.changed()
    vend(azure_space, Access.READ, bucket=container)
    assert asked == [container, container], "a change to access asks again"


def test_a_container_deleted_in_azure_is_named_once_its_check_expires(
    azure_space: Space, azurite: Azurite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(azure_vendor, "CONTAINER_CHECK_SECONDS", 0)
    container = f"deleted-{uuid.uuid4().hex[:8]}"
    ensure_containers(azurite, container)
    vend(azure_space, Access.READ, bucket=container)
    BlobServiceClient.from_connection_string(azurite.connection_string).delete_container(container)
    with pytest.raises(ContainerMissing):
        vend(azure_space, Access.READ, bucket=container)


def test_a_connection_string_without_an_account_key_cannot_sign(azure_space: Space, azurite: Azurite) -> None:
    now = datetime.now(UTC)
    account_sas = service_sas(AZURITE_ACCOUNT, azurite.account_key, "raw", "rl", now, now + timedelta(hours=1))
    organization = azure_space.organization
    connection = lifecycle.create_connection(
        organization,
        name="sas-only",
        method="azure_connection_string",
        values={"connection_string": f"BlobEndpoint={azurite.blob_endpoint};SharedAccessSignature={account_sas}"},
        validate=False,
    )
    with pytest.raises(NotVendable) as caught:
        vendor_for(connection).vend(
            Scope(connection, Location("raw"), Access.READ, timedelta(minutes=5), user_id=1, user_label="t")
        )
    assert caught.value.code == "connection_cannot_sign"
    assert account_sas not in caught.value.message


# --- issuing: lifetimes from settings, the cache and its buffer, the audit trail ---


def context_of(user: Any) -> AccessContext:
    return AccessContext.for_user(user)


def window(sas: str) -> timedelta:
    fields = {k: v[0] for k, v in parse_qs(sas).items()}
    parse = lambda text: datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    return parse(fields["se"]) - parse(fields["st"])


def test_lifetimes_come_from_the_settings_per_access_level(azure_space: Space, owner: Any, settings: Any) -> None:
    Grant.objects.create(
        user=owner, scope=GrantScope.ORGANIZATION, role=Role.TRUSTEE, organization=azure_space.organization
    )
    settings.SPACEPORT_CREDENTIAL_LIFETIME_MINUTES = {"read": 17, "write": 23, "delete": 13}
    settings.SPACEPORT_CREDENTIAL_CACHE_BUFFER_MINUTES = 2
    for access, minutes in (("read", 17), ("write", 23), ("delete", 13)):
        issued = issue(context_of(owner), azure_space, access=access, user=owner)
        assert window(issued.credential.secret["sas"]) == timedelta(minutes=minutes)


def test_a_cached_token_is_reused_within_the_buffer_and_not_after(
    azure_space: Space, member: Any, settings: Any
) -> None:
    settings.SPACEPORT_CREDENTIAL_LIFETIME_MINUTES = {"read": 30, "write": 30, "delete": 30}
    settings.SPACEPORT_CREDENTIAL_CACHE_BUFFER_MINUTES = 10
    first = issue(context_of(member), azure_space, access=Access.READ, user=member)
    again = issue(context_of(member), azure_space, access=Access.READ, user=member)
    assert (first.cached, again.cached) == (False, True)
    assert again.credential.secret["sas"] == first.credential.secret["sas"]

    settings.SPACEPORT_CREDENTIAL_CACHE_BUFFER_MINUTES = 30
    late = issue(context_of(member), azure_space, access=Access.READ, user=member)
    assert late.cached is False, "a token with no more than the buffer left must not be handed out"


def test_each_access_level_and_target_gets_its_own_token(azure_space: Space, member: Any, azurite: Azurite) -> None:
    read = issue(context_of(member), azure_space, access=Access.READ, user=member).credential
    write = issue(context_of(member), azure_space, access=Access.WRITE, user=member).credential
    upload = issue(
        context_of(member), azure_space, access=Access.WRITE, user=member, target=Target.LOADINGZONE
    ).credential
    assert len({read.secret["sas"], write.secret["sas"], upload.secret["sas"]}) == 3
    assert (read.location["container"], write.location["container"], upload.location["container"]) == (
        "raw",
        "raw",
        "loadingzone",
    )
    assert permission_of(read.secret["sas"]) == "rl"
    ContainerClient.from_container_url(upload.secret["container_url"]).upload_blob(f"u-{uuid.uuid4().hex}", b"x")


def test_issuing_and_refusing_are_audited_without_the_token(azure_space: Space, member: Any, outsider: Any) -> None:
    issued = issue(context_of(member), azure_space, access=Access.READ, user=member)
    sas = issued.credential.secret["sas"]
    with pytest.raises(Exception, match="may not"):
        issue(context_of(outsider), azure_space, access=Access.READ, user=outsider)
    bare = Space.objects.create(organization=azure_space.organization, name=f"nocontainer-{uuid.uuid4().hex[:6]}")
    Grant.objects.create(
        user=member, scope=GrantScope.SPACE, role=Role.USER, organization=bare.organization, space=bare
    )
    with pytest.raises(ContainerMissing):
        issue(context_of(member), bare, access=Access.READ, user=member)
    journal.drain()
    events = list(AuditEvent.objects.filter(action__startswith="credential.").order_by("time", "pk"))
    assert [(e.action, e.outcome) for e in events] == [
        ("credential.issue", "success"),
        ("credential.refuse", "denied"),
        ("credential.refuse", "denied"),
    ]
    assert events[0].details["kind"] == "azure_sas" and events[0].details["access"] == "read"
    assert [e.details["reason"] for e in events[1:]] == ["read_denied", "no_such_container"]
    signature = parse_qs(sas)["sig"][0]
    for event in events:
        assert signature not in str(event.details) and sas not in str(event.details)


def test_snippets_carry_a_working_configuration(azure_space: Space, azurite: Azurite) -> None:
    credential = vend(azure_space, Access.WRITE)
    sas = credential.secret["sas"]
    assert f"AZURE_STORAGE_SAS_TOKEN='{sas}'" in credential.snippets["env"]
    assert f"AZURE_STORAGE_ACCOUNT_URL={azurite.blob_endpoint}" in credential.snippets["env"]
    assert "AZURE_STORAGE_CONTAINER=raw" in credential.snippets["env"]
    assert credential.snippets["azcopy"].startswith("azcopy copy './upload/*' '")
    assert f"sas_url = {credential.secret['container_url']}" in credential.snippets["rclone"]
    assert "type = azureblob" in credential.snippets["rclone"]
    assert sas not in repr(credential)


# --- service principal: a user-delegation SAS ---


class StandInEntraId:
    """No Entra ID runs here: this mints the tokens Azurite's basic OAuth mode accepts (it checks
    issuer, audience and lifetime, not the signature), in place of azure-identity's credential."""

    tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        now = int(time.time())
        claims = {
            "iss": f"https://sts.windows.net/{self.tenant}/",
            "aud": "https://storage.azure.com",
            "oid": "00000000-0000-0000-0000-0000000000a1",
            "tid": self.tenant,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
        }
        return AccessToken(jwt.encode(claims, "stand-in-key-not-verified-by-azurite", algorithm="HS256"), now + 3600)


@pytest.fixture(scope="module")
def azurite_oauth(tmp_path_factory: Any) -> Iterator[str]:
    """A second Azurite with Entra ID sign-in (which it serves only over HTTPS); it issues user-delegation keys
    and checks user-delegation SAS signatures."""
    workdir = tmp_path_factory.mktemp("azurite-oauth")
    cert, key = self_signed(workdir)
    port = free_port()
    argv = [
        str(REPO / "node_modules" / ".bin" / "azurite-blob"),
        *("--blobHost", LOOPBACK, "--blobPort", str(port), "--location", str(workdir / "data")),
        *("--oauth", "basic", "--cert", str(cert), "--key", str(key), "--skipApiVersionCheck", "--loose"),
    ]
    log = workdir / "azurite.log"
    with log.open("wb") as output:
        popen = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT, cwd=workdir, start_new_session=True)
    process = Process("azurite-oauth", popen, log, grace=2.0)
    deadline = time.monotonic() + 60
    while b"successfully listens" not in log.read_bytes():
        if popen.poll() is not None or time.monotonic() > deadline:
            process.stop()
            pytest.fail(f"Azurite with OAuth did not start:\n{process.log_tail()}")
        time.sleep(0.1)
    yield f"https://{LOOPBACK}:{port}/{AZURITE_ACCOUNT}"
    process.stop()


def test_a_service_principal_signs_a_user_delegation_sas(azurite_oauth: str) -> None:
    connection = CloudConnection(
        provider="azure",
        method="azure_service_principal",
        config={"account_url": azurite_oauth, "tenant_id": StandInEntraId.tenant, "client_id": "spaceport"},
        secret={"client_secret": "unused-with-the-stand-in"},
    )
    client = AzureBlobClient(connection)
    client.credential = StandInEntraId()
    client.service = BlobServiceClient(azurite_oauth, credential=client.credential, connection_verify=False)
    if not client.service.get_container_client("raw").exists():
        client.service.create_container("raw")
    vendor = AzureVendor(connection, client)
    scope = Scope(connection, Location("raw"), Access.WRITE, timedelta(minutes=20), user_id=1, user_label="t")

    credential = vendor.vend(scope)
    sas = credential.secret["sas"]
    names = [part.split("=", 1)[0] for part in sas.split("&")]
    assert names[:3] == ["sv", "st", "se"] and names[-3:] == ["sr", "sp", "sig"]
    assert {"skoid", "sktid", "skt", "ske", "sks", "skv"} <= set(names)
    assert parse_qs(sas)["sp"] == ["racwl"]
    box = ContainerClient.from_container_url(credential.secret["container_url"], connection_verify=False)
    name = f"sp-{uuid.uuid4().hex}"
    box.upload_blob(name, b"x")
    refused(lambda: box.delete_blob(name))

    read = vendor.vend(replace(scope, access=Access.READ)).secret["sas"]
    assert parse_qs(read)["skt"] == parse_qs(sas)["skt"], "the delegation key is reused"
    reader = ContainerClient.from_container_url(f"{azurite_oauth}/raw?{read}", connection_verify=False)
    assert reader.download_blob(name).readall() == b"x"
    refused(lambda: reader.upload_blob(f"sp-{uuid.uuid4().hex}", b"x"))
    forged = read.replace("sp=rl", "sp=racwdl")
    refused(
        lambda: ContainerClient.from_container_url(
            f"{azurite_oauth}/raw?{forged}", connection_verify=False
        ).delete_blob(name)
    )
