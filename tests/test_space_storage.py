"""Each space gets its storage, and what Spaceport issued for it can be revoked, against Azurite.

Azurite checks account keys, SAS signatures and stored access policies: a token naming a policy
that was removed is refused with 403, as Azure does (Azure within 30 seconds, Azurite at once).
What Azurite does not check: a token that names a policy takes its start and expiry from the
policy there, so the token's own ``se`` (which Azure enforces) is checked only by its signature
and by test_vending_azure's format test, not by an expired token being refused.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import ANY

import pytest
from azure.storage.blob import AccountSasPermissions, BlobServiceClient, ContainerClient, generate_account_sas
from django.test import Client

from accessgrants.vending.issuing import issue
from commits import engine
from commits.models import ACTIVE_STATES, Commit, CommitState
from commits.starting import start_commit
from connections import lifecycle, probe, spaces, tasks
from connections.active import active_connection, make_active, with_active_connection
from connections.models import CloudConnection, SpaceStorage, Status
from connections.providers.azure.policies import POLICY_PREFIX
from connections.providers.registry import client_for, forget_clients, location_for
from connections.providers.vending import Access, Target
from portal.audit.models import AuditEvent
from portal.tenancy.changes import (
    create_organization,
    create_space,
    mark_organization_for_deletion,
    mark_space_for_deletion,
)
from portal.tenancy.grants import Grant, Role
from portal.tenancy.grants import Scope as GrantScope
from portal.tenancy.models import LOADINGZONE, Organization, Space
from portal.tenancy.rules import AccessContext
from tests.conftest import PASSWORD
from tests.dispatching import sent_by
from tests.emulators import AZURITE_ACCOUNT, Azurite
from tests.fixtures.worker import Worker
from tests.test_commits import access_for_user
from tests.test_vending_azure import refused


@pytest.fixture(autouse=True)
def fresh_clients() -> None:
    forget_clients()


def service(azurite: Azurite) -> BlobServiceClient:
    return BlobServiceClient.from_connection_string(azurite.connection_string)


def unique_space_name() -> str:
    return f"sp-{uuid.uuid4().hex[:12]}"


def azure_organization(azurite: Azurite, owner: Any, connection_string: str = "") -> Organization:
    """A new organization on Azurite, its connection valid and in use."""
    organization = create_organization(name=f"o{uuid.uuid4().hex[:10]}", owner=owner)
    connection = lifecycle.create_connection(
        organization,
        name="azurite",
        method="azure_connection_string",
        values={"connection_string": connection_string or azurite.connection_string},
        validate=False,
    )
    CloudConnection.objects.filter(pk=connection.pk).update(status=Status.VALID)
    make_active(connection)
    organization.refresh_from_db()
    return organization


def enqueued_by(callbacks: list[Any], function: str) -> int:
    """How many of the on-commit callbacks ``function`` registered (others, such as the snapshots', are not counted)."""
    return sent_by(callbacks).count(f"connections.tasks.{function}")


def new_space(organization: Organization, django_capture_on_commit_callbacks: Any) -> Space:
    """A space created as the pages and the API create it; its storage task is enqueued on commit."""
    with django_capture_on_commit_callbacks() as enqueued:
        space = create_space(organization, name=unique_space_name())
    assert enqueued_by(enqueued, "prepare_space_storage") == 1, "creating the space enqueues its storage task"
    return space


def supplier(user: Any, space: Space) -> None:
    Grant.objects.get_or_create(
        user=user, scope=GrantScope.ORGANIZATION, role=Role.ACCESS, organization=space.organization
    )
    Grant.objects.create(
        user=user, scope=GrantScope.SPACE, role=Role.SUPPLIER, organization=space.organization, space=space
    )


def upload(azurite: Azurite, root: str, files: dict[str, bytes]) -> None:
    loadingzone = service(azurite).get_container_client(LOADINGZONE)
    for name, data in files.items():
        loadingzone.upload_blob(f"{root}/{name}", data, overwrite=True)


# --- spaces get their storage ---


def test_a_new_azure_spaces_first_commit_succeeds_without_manual_steps(
    azurite: Azurite, owner: Any, member: Any, django_capture_on_commit_callbacks: Any
) -> None:
    organization = azure_organization(azurite, owner)
    connection = active_connection(organization)
    assert connection is not None
    probe.validate(connection)  # what saving the connection runs: it creates the loadingzone's container
    space = new_space(organization, django_capture_on_commit_callbacks)
    assert not service(azurite).get_container_client(space.name).exists()

    assert tasks.prepare_space_storage(space.pk) == "done"
    assert service(azurite).get_container_client(space.name).exists()
    storage = SpaceStorage.objects.get(space=space)
    assert (storage.state, storage.connection_id) == (SpaceStorage.State.READY, connection.pk)
    policies = service(azurite).get_container_client(space.name).get_container_access_policy()
    made = sorted(item.id.split("-")[1] for item in policies["signed_identifiers"])
    assert made == ["delete", "read", "write"], "the policies exist before the first token is asked for"

    supplier(member, space)
    root = f"batch-{uuid.uuid4().hex[:6]}"
    upload(azurite, root, {"a.csv": b"1,2\n", "deep/b.json": b"{}"})
    commit = start_commit(access_for_user(member), space, root_dir=root, user=member)
    assert engine.run(commit.pk) == "finished"
    commit.refresh_from_db()
    assert commit.state == CommitState.SUCCEEDED, commit.error
    moved = {blob.name for blob in service(azurite).get_container_client(space.name).list_blobs()}
    assert moved == {f"{root}/a.csv", f"{root}/deep/b.json"}


def test_a_commit_creates_a_container_the_worker_has_not_created_yet(
    azurite: Azurite, owner: Any, member: Any, django_capture_on_commit_callbacks: Any
) -> None:
    organization = azure_organization(azurite, owner)
    connection = active_connection(organization)
    assert connection is not None
    probe.validate(connection)
    space = new_space(organization, django_capture_on_commit_callbacks)
    supplier(member, space)
    root = f"early-{uuid.uuid4().hex[:6]}"
    upload(azurite, root, {"x.txt": b"x"})
    commit = start_commit(access_for_user(member), space, root_dir=root, user=member)
    assert engine.run(commit.pk) == "finished"
    commit.refresh_from_db()
    assert commit.state == CommitState.SUCCEEDED, commit.error
    assert service(azurite).get_container_client(space.name).get_blob_client(f"{root}/x.txt").exists()


def read_only(azurite: Azurite) -> str:
    """A connection string whose account SAS may list and read, and so may not create containers.

    Azurite ties creating containers to writing blobs (any account SAS that may write may create);
    a read-only one is the refusal it can show.
    """
    now = datetime.now(UTC)
    sas = generate_account_sas(
        AZURITE_ACCOUNT,
        azurite.account_key,
        resource_types="co",
        permission=AccountSasPermissions(read=True, list=True),
        expiry=now + timedelta(hours=2),
        start=now - timedelta(minutes=5),
    )
    return f"BlobEndpoint={azurite.blob_endpoint};SharedAccessSignature={sas}"


def test_without_permission_the_space_says_what_to_create_and_validation_lists_it(
    azurite: Azurite, owner: Any, member: Any, django_capture_on_commit_callbacks: Any
) -> None:
    if not service(azurite).get_container_client(LOADINGZONE).exists():
        service(azurite).create_container(LOADINGZONE)
    organization = azure_organization(azurite, owner, read_only(azurite))
    space = new_space(organization, django_capture_on_commit_callbacks)
    assert tasks.prepare_space_storage(space.pk) == "done"
    assert not service(azurite).get_container_client(space.name).exists()
    storage = SpaceStorage.objects.get(space=space)
    assert storage.state == SpaceStorage.State.MISSING
    command = f"az storage container create --account-name {AZURITE_ACCOUNT} --name {space.name} --auth-mode login"
    assert storage.command == command
    assert "sig=" not in storage.hint + storage.message

    connection = active_connection(organization)
    assert connection is not None
    check = probe.space_storage_check(connection, client_for(connection))
    assert check is not None and check.ok and check.warning, "a missing container warns; the connection still works"
    assert space.name in check.message and command in check.hint

    browser = Client()
    assert browser.login(username=owner.email, password=PASSWORD)
    page = browser.get(f"/o/{organization.name}/s/{space.name}/").content.decode()
    assert f"The container {space.name} does not exist yet" in page
    assert command in page

    supplier(member, space)
    root = f"nocontainer-{uuid.uuid4().hex[:6]}"
    upload(azurite, root, {"x.txt": b"x"})
    commit = start_commit(access_for_user(member), space, root_dir=root, user=member)
    assert engine.run(commit.pk) == "finished"
    commit.refresh_from_db()
    assert commit.state == CommitState.FAILED
    assert f"The container '{space.name}' does not exist." in commit.error
    assert f"az storage container create --account-name {AZURITE_ACCOUNT} --name {space.name}" in commit.error

    service(azurite).create_container(space.name)
    assert probe.space_storage_check(connection, client_for(connection)) == probe.Check(
        "spaces", True, "Every space has its container.", duration_ms=ANY
    )
    assert spaces.missing_storage(space) is None, "checking again finds the container in place"
    assert "does not exist yet" not in browser.get(f"/o/{organization.name}/s/{space.name}/").content.decode()


def test_prefix_based_stores_need_nothing_per_space(
    rclone_s3: Any, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.test_provider_s3compat import connect_new_bucket

    organization = create_organization(name=f"o{uuid.uuid4().hex[:10]}", owner=owner)
    connection = connect_new_bucket(organization, rclone_s3, prefix="spaceport")
    CloudConnection.objects.filter(pk=connection.pk).update(status=Status.VALID)
    make_active(connection)
    organization.refresh_from_db()
    space = new_space(organization, django_capture_on_commit_callbacks)
    assert tasks.prepare_space_storage(space.pk) == "done"
    assert not SpaceStorage.objects.filter(space=space).exists()
    assert client_for(connection).revoke_issued(location_for(connection, space.name)) is None


# --- revocation ---


def read_token(space: Space, user: Any) -> tuple[str, bool]:
    issued = issue(AccessContext.for_user(user), space, access=Access.READ, user=user)
    return issued.credential.secret["container_url"], issued.cached


def test_disabling_the_connection_revokes_an_issued_sas(
    azurite: Azurite, owner: Any, member: Any, django_capture_on_commit_callbacks: Any
) -> None:
    organization = azure_organization(azurite, owner)
    connection = active_connection(organization)
    assert connection is not None
    probe.validate(connection)
    space = new_space(organization, django_capture_on_commit_callbacks)
    tasks.prepare_space_storage(space.pk)
    supplier(member, space)
    service(azurite).get_blob_client(space.name, "kept.txt").upload_blob(b"kept")
    upload_url = issue(
        AccessContext.for_user(member), space, access=Access.WRITE, user=member, target=Target.LOADINGZONE
    ).credential.secret["container_url"]

    url, _ = read_token(space, member)
    reader = ContainerClient.from_container_url(url)
    assert reader.download_blob("kept.txt").readall() == b"kept"
    assert read_token(space, member) == (url, True), "the same token comes from the cache"

    with django_capture_on_commit_callbacks() as enqueued:
        lifecycle.disable_connection(connection, "test")
    assert enqueued_by(enqueued, "revoke_connection_credentials") == 1, "disabling enqueues the revocation"
    assert tasks.revoke_connection_credentials(connection.pk).startswith("revoked ")

    refused(lambda: reader.download_blob("kept.txt").readall())
    refused(lambda: ContainerClient.from_container_url(upload_url).upload_blob(f"late-{uuid.uuid4().hex}", b"x"))
    assert service(azurite).get_blob_client(space.name, "kept.txt").exists(), "the data itself is untouched"
    revocation = AuditEvent.objects.get(action="connection.revoke")
    assert revocation.details["reason"] == "connection_disabled" and revocation.details["policies_removed"] >= 4

    lifecycle.enable_connection(connection)
    probe.validate(CloudConnection.objects.get(pk=connection.pk))
    space.refresh_from_db()
    fresh, cached = read_token(with_active_connection(Space.objects.filter(pk=space.pk)).get(), member)
    assert (fresh != url, cached) == (True, False), "nothing revoked is handed out again from the cache"
    assert ContainerClient.from_container_url(fresh).download_blob("kept.txt").readall() == b"kept"
    refused(lambda: reader.download_blob("kept.txt").readall())


def test_deleting_a_space_revokes_what_was_issued_for_it(
    azurite: Azurite, owner: Any, member: Any, django_capture_on_commit_callbacks: Any
) -> None:
    organization = azure_organization(azurite, owner)
    space = new_space(organization, django_capture_on_commit_callbacks)
    other = new_space(organization, django_capture_on_commit_callbacks)
    for each in (space, other):
        tasks.prepare_space_storage(each.pk)
        supplier(member, each)
        service(azurite).get_blob_client(each.name, "kept.txt").upload_blob(b"kept")
    url, _ = read_token(space, member)
    other_url, _ = read_token(other, member)

    with django_capture_on_commit_callbacks() as enqueued:
        mark_space_for_deletion(space)
    assert enqueued_by(enqueued, "revoke_space_credentials") == 1
    assert tasks.revoke_space_credentials(space.pk) == "done"
    refused(lambda: ContainerClient.from_container_url(url).download_blob("kept.txt").readall())
    assert ContainerClient.from_container_url(other_url).download_blob("kept.txt").readall() == b"kept"
    remaining = service(azurite).get_container_client(space.name).get_container_access_policy()
    assert not [p for p in remaining["signed_identifiers"] if p.id.startswith(POLICY_PREFIX)]


def test_deleting_the_organization_revokes_what_was_issued_for_its_spaces(
    azurite: Azurite, owner: Any, member: Any, django_capture_on_commit_callbacks: Any
) -> None:
    organization = azure_organization(azurite, owner)
    space = new_space(organization, django_capture_on_commit_callbacks)
    tasks.prepare_space_storage(space.pk)
    supplier(member, space)
    service(azurite).get_blob_client(space.name, "kept.txt").upload_blob(b"kept")
    url, _ = read_token(space, member)
    served = active_connection(organization)
    assert served is not None

    with django_capture_on_commit_callbacks() as enqueued:
        mark_organization_for_deletion(organization)
    assert enqueued_by(enqueued, "revoke_connection_credentials") == 1
    assert tasks.revoke_connection_credentials(served.pk, "organization_deleted").startswith("revoked")
    refused(lambda: ContainerClient.from_container_url(url).download_blob("kept.txt").readall())
    assert AuditEvent.objects.get(action="connection.revoke").details["reason"] == "organization_deleted"


def test_policies_somebody_else_made_are_kept_and_the_limit_is_named(
    azurite: Azurite, owner: Any, member: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from azure.storage.blob import AccessPolicy

    organization = azure_organization(azurite, owner)
    space = new_space(organization, django_capture_on_commit_callbacks)
    supplier(member, space)
    container = service(azurite).create_container(space.name)
    theirs = {f"theirs-{n}": AccessPolicy(permission="r") for n in range(5)}
    container.set_container_access_policy(theirs)
    with pytest.raises(Exception, match="stored access policies") as caught:
        read_token(space, member)
    assert getattr(caught.value, "code", "") == "too_many_policies"

    container.set_container_access_policy({name: theirs[name] for name in list(theirs)[:3]})
    tasks.prepare_space_storage(space.pk)
    assert SpaceStorage.objects.get(space=space).state == SpaceStorage.State.READY, "no room for all three is no error"
    read_token(space, member)
    served = active_connection(organization)
    assert served is not None
    spaces.revoke_connection(served)
    left = {p.id for p in container.get_container_access_policy()["signed_identifiers"]}
    assert left == {"theirs-0", "theirs-1", "theirs-2"}


# --- end to end: a real worker on Redis does it all, nobody runs a task by hand ---


@pytest.mark.worker
def test_with_a_worker_a_new_space_commits_and_disabling_revokes(
    worker: Worker, azurite: Azurite, owner: Any, member: Any
) -> None:
    organization = azure_organization(azurite, owner)
    connection = active_connection(organization)
    assert connection is not None
    probe.validate(connection)
    space = create_space(organization, name=unique_space_name())
    container = service(azurite).get_container_client(space.name)
    worker.wait_for(container.exists, what="the new space's container")

    supplier(member, space)
    root = f"e2e-{uuid.uuid4().hex[:6]}"
    upload(azurite, root, {"first.csv": b"1\n"})
    commit = start_commit(access_for_user(member), space, root_dir=root, user=member)
    worker.wait_for(lambda: Commit.objects.get(pk=commit.pk).state not in ACTIVE_STATES, what="the first commit")
    commit.refresh_from_db()
    assert commit.state == CommitState.SUCCEEDED, commit.error
    assert container.get_blob_client(f"{root}/first.csv").exists()

    url, _ = read_token(space, member)
    reader = ContainerClient.from_container_url(url)
    assert reader.download_blob(f"{root}/first.csv").readall() == b"1\n"
    lifecycle.disable_connection(CloudConnection.objects.get(pk=connection.pk), "end to end")
    worker.wait_for(lambda: AuditEvent.objects.filter(action="connection.revoke").exists(), what="the revocation")
    refused(lambda: reader.download_blob(f"{root}/first.csv").readall())
