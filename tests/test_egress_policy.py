"""The outbound address policy as a classifier, and at input time: every field that names a place
Spaceport will connect to refuses internal addresses, says why, and stores nothing.

Each input case runs with a recording loopback listener where the attack points, and the
operator's loopback allowance (which the tests' emulators need) taken away.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from commits.models import OrganizationWebhook
from commits.webhooks import configure
from connections import egress, inputs
from connections.methods import ConnectionInputError, clean_input
from connections.models import CloudConnection
from portal.core.errors import DomainError
from portal.tenancy.models import Organization
from spaceport.env import env_networks
from tests.connection_inputs import VALID_INPUTS
from tests.loopback import RecordingListener, recording_listener
from tests.resolver import resolving

NONE: tuple[egress.Network, ...] = ()


@pytest.fixture
def listener() -> Iterator[RecordingListener]:
    with recording_listener() as running:
        yield running


@pytest.fixture
def no_allowance(settings: Any) -> None:
    """The production default: no private network, and no loopback, is allowed."""
    settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = []


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0251.0376.0251.0376", "169.254.169.254"),
        ("[::ffff:127.0.0.1]", "127.0.0.1"),
        ("::ffff:a9fe:a9fe", "169.254.169.254"),
        ("::127.0.0.1", "127.0.0.1"),
        ("2002:7f00:1::", "127.0.0.1"),
        ("64:ff9b::a9fe:a9fe", "169.254.169.254"),
        ("fe80::1%eth0", "fe80::1"),
        ("0", "0.0.0.0"),  # noqa: S104 - an address under test, not a bind
    ],
)
def test_numeric_forms_are_read_as_the_address_they_spell(host: str, address: str) -> None:
    assert egress.numeric_host(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["example.com", "256.1.1.1", "1.2.3.4.5", "0x", "s3.eu-de.cloud"])
def test_names_are_not_numeric(host: str) -> None:
    assert egress.numeric_host(host) is None


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", egress.HOST_NETWORK),
        ("127.8.9.10", egress.HOST_NETWORK),
        ("::1", egress.HOST_NETWORK),
        ("0.0.0.0", egress.HOST_NETWORK),  # noqa: S104 - an address under test, not a bind
        ("::", egress.HOST_NETWORK),
        ("169.254.10.1", egress.HOST_NETWORK),
        ("fe80::1", egress.HOST_NETWORK),
        ("169.254.169.254", egress.METADATA_ADDRESS),
        ("169.254.170.2", egress.METADATA_ADDRESS),
        ("fd00:ec2::254", egress.METADATA_ADDRESS),
        ("100.100.100.200", egress.METADATA_ADDRESS),
        ("10.0.0.5", egress.PRIVATE),
        ("172.16.1.1", egress.PRIVATE),
        ("192.168.1.1", egress.PRIVATE),
        ("100.64.0.1", egress.PRIVATE),
        ("fd12:3456::1", egress.PRIVATE),
        ("224.0.0.1", egress.RESERVED),
        ("ff02::1", egress.RESERVED),
        ("255.255.255.255", egress.RESERVED),
        ("240.0.0.1", egress.RESERVED),
        ("192.0.2.10", egress.RESERVED),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_the_classifier_names_why(address: str, reason: str | None) -> None:
    assert egress.refusal(egress.normalized(ipaddress.ip_address(address)), NONE) == reason


@pytest.mark.parametrize(
    "mapped", ["::ffff:127.0.0.1", "::ffff:10.0.0.5", "::ffff:169.254.169.254", "2002:a9fe:a9fe::"]
)
def test_ipv6_forms_carrying_ipv4_are_judged_by_it(mapped: str) -> None:
    carried = egress.normalized(ipaddress.ip_address(mapped))
    assert carried.version == 4
    assert egress.refusal(carried, NONE) is not None


def test_the_operator_allows_named_private_networks_and_loopback_but_never_metadata() -> None:
    allowed = (ipaddress.ip_network("10.20.0.0/16"), ipaddress.ip_network("127.0.0.0/8"))
    assert egress.refusal(ipaddress.ip_address("10.20.3.4"), allowed) is None
    assert egress.refusal(ipaddress.ip_address("10.21.3.4"), allowed) == egress.PRIVATE
    assert egress.refusal(ipaddress.ip_address("127.0.0.1"), allowed) is None
    everything = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))
    assert egress.refusal(ipaddress.ip_address("169.254.169.254"), everything) == egress.METADATA_ADDRESS
    assert egress.refusal(ipaddress.ip_address("fd00:ec2::254"), everything) == egress.METADATA_ADDRESS
    assert egress.refusal(ipaddress.ip_address("169.254.1.1"), everything) == egress.HOST_NETWORK
    assert egress.refusal(ipaddress.ip_address("224.0.0.1"), everything) == egress.RESERVED


@pytest.mark.usefixtures("no_allowance")
@pytest.mark.parametrize("name", ["metadata.google.internal", "METADATA.GOOGLE.INTERNAL.", "metadata", "metadata.goog"])
def test_metadata_names_are_refused_without_being_looked_up(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_lookup(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a metadata name must not even be resolved")

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    with pytest.raises(egress.AddressRefused) as refused:
        egress.vet(name, 80)
    assert refused.value.reason == egress.METADATA_NAME


@pytest.mark.usefixtures("no_allowance")
def test_a_name_is_refused_when_any_of_its_addresses_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """No DNS server runs here: the resolver is replaced for the one name under test."""
    resolving(monkeypatch, "mixed.example.test", [("8.8.8.8", "10.1.2.3")])
    with pytest.raises(egress.AddressRefused) as refused:
        egress.vet("mixed.example.test", 443)
    assert refused.value.reason == egress.PRIVATE
    assert "mixed.example.test (10.1.2.3)" in refused.value.message


@pytest.mark.usefixtures("no_allowance")
def test_localhost_is_refused_by_name() -> None:
    with pytest.raises(egress.AddressRefused) as refused:
        egress.vet("localhost", 80)
    assert refused.value.reason == egress.HOST_NETWORK


def test_allowed_networks_are_read_as_cidrs_and_a_bad_entry_stops_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPACEPORT_ALLOWED_PRIVATE_NETWORKS", "10.20.0.0/16, fd12:3456::/48")
    assert env_networks("SPACEPORT_ALLOWED_PRIVATE_NETWORKS") == [
        ipaddress.ip_network("10.20.0.0/16"),
        ipaddress.ip_network("fd12:3456::/48"),
    ]
    monkeypatch.setenv("SPACEPORT_ALLOWED_PRIVATE_NETWORKS", "none")
    assert env_networks("SPACEPORT_ALLOWED_PRIVATE_NETWORKS", ["127.0.0.0/8"]) == []
    for bad in ("10.20.0.0/33", "10.20.0.1/16", "intranet"):
        monkeypatch.setenv("SPACEPORT_ALLOWED_PRIVATE_NETWORKS", f"10.0.0.0/8,{bad}")
        with pytest.raises(ImproperlyConfigured) as failed:
            env_networks("SPACEPORT_ALLOWED_PRIVATE_NETWORKS")
        assert "SPACEPORT_ALLOWED_PRIVATE_NETWORKS" in str(failed.value) and bad in str(failed.value)


# --- at input time: every endpoint field of every method ---

ENDPOINT_FIELDS = [
    ("s3_static_keys", "endpoint"),
    ("aws_access_keys", "endpoint_url"),
    ("aws_cross_account_role", "endpoint_url"),
    ("ibm_api_key", "endpoint"),
    ("ibm_hmac", "endpoint"),
    ("azure_service_principal", "account_url"),
    ("gcp_service_account_key", "api_endpoint"),
    ("gcp_direct_iam", "api_endpoint"),
]
ATTACKS = [
    ("{listener}", egress.HOST_NETWORK),
    ("http://localhost:{port}", egress.HOST_NETWORK),
    ("http://2130706433:{port}", egress.HOST_NETWORK),
    ("http://0x7f.1:{port}", egress.HOST_NETWORK),
    ("http://[::ffff:127.0.0.1]:{port}", egress.HOST_NETWORK),
    ("http://169.254.169.254", egress.METADATA_ADDRESS),
    ("http://[fd00:ec2::254]", egress.METADATA_ADDRESS),
    ("http://metadata.google.internal", egress.METADATA_NAME),
    ("https://10.0.0.5", egress.PRIVATE),
]


def attack_url(template: str, listener: RecordingListener) -> str:
    return template.format(listener=listener.url, port=listener.port)


@pytest.mark.usefixtures("no_allowance")
@pytest.mark.parametrize(("method", "field"), ENDPOINT_FIELDS)
@pytest.mark.parametrize(("template", "reason"), ATTACKS)
def test_endpoint_fields_refuse_internal_addresses(
    method: str, field: str, template: str, reason: str, listener: RecordingListener
) -> None:
    values = {**VALID_INPUTS[method], field: attack_url(template, listener)}
    with pytest.raises(ConnectionInputError) as refused:
        clean_input(method, values)
    assert set(refused.value.errors) == {field}
    assert reason in refused.value.errors[field]
    assert listener.connections == 0


@pytest.mark.usefixtures("no_allowance")
@pytest.mark.parametrize(
    ("method", "field"), [("ibm_api_key", "iam_url"), ("azure_service_principal", "authority_host")]
)
@pytest.mark.parametrize(("template", "reason"), ATTACKS)
def test_token_endpoints_offer_only_the_operators_choices(
    method: str, field: str, template: str, reason: str, listener: RecordingListener
) -> None:
    """Where a secret is exchanged the operator lists the endpoints; anything else is refused, naming the field."""
    values = {**VALID_INPUTS[method], field: attack_url(template, listener)}
    with pytest.raises(ConnectionInputError) as refused:
        clean_input(method, values)
    assert set(refused.value.errors) == {field}
    assert listener.connections == 0


@pytest.mark.usefixtures("no_allowance")
@pytest.mark.parametrize(("template", "reason"), ATTACKS)
def test_the_azure_connection_strings_blob_endpoint_is_checked(
    template: str, reason: str, listener: RecordingListener
) -> None:
    endpoint = attack_url(template, listener)
    value = f"AccountName=devstoreaccount1;AccountKey=c2VjcmV0;BlobEndpoint={endpoint}/devstoreaccount1;"
    with pytest.raises(ConnectionInputError) as refused:
        clean_input("azure_connection_string", {"connection_string": value})
    assert reason in refused.value.errors["connection_string"]
    assert refused.value.errors["connection_string"].startswith("BlobEndpoint: ")
    assert listener.connections == 0


@pytest.mark.usefixtures("no_allowance")
def test_the_azure_accounts_derived_endpoint_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a BlobEndpoint the endpoint is derived from the suffix, which can point inward too.

    No DNS server runs here: the resolver is replaced for the one name under test.
    """
    resolving(monkeypatch, "acme.blob.inward.test", ["10.0.0.5"])
    value = "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=c2VjcmV0;EndpointSuffix=inward.test"
    with pytest.raises(ConnectionInputError) as refused:
        clean_input("azure_connection_string", {"connection_string": value})
    assert egress.PRIVATE in refused.value.errors["connection_string"]
    clean_input("azure_connection_string", VALID_INPUTS["azure_connection_string"])


def test_with_the_operators_allowance_the_same_endpoints_are_accepted(
    settings: Any, listener: RecordingListener
) -> None:
    settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = [ipaddress.ip_network("127.0.0.0/8")]
    config, _ = clean_input("s3_static_keys", {**VALID_INPUTS["s3_static_keys"], "endpoint": listener.url})
    assert config["endpoint"] == listener.url
    settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = [ipaddress.ip_network("10.0.0.0/8")]
    clean_input("s3_static_keys", {**VALID_INPUTS["s3_static_keys"], "endpoint": "https://10.0.0.5"})
    with pytest.raises(ConnectionInputError):
        clean_input("s3_static_keys", {**VALID_INPUTS["s3_static_keys"], "endpoint": listener.url})
    assert listener.connections == 0, "input checks resolve names, they never connect"


@pytest.mark.usefixtures("no_allowance")
def test_the_api_names_the_field_and_stores_nothing(
    api: Any, owner: Any, organization: Organization, listener: RecordingListener
) -> None:
    body = {"name": "probe", "method": "s3_static_keys", "values": {**VALID_INPUTS["s3_static_keys"]}}
    body["values"]["endpoint"] = f"http://2130706433:{listener.port}"
    response = api(owner).post(f"/api/v1/organizations/{organization.name}/connections/", body, format="json")
    assert response.status_code == 400, response.content
    assert egress.HOST_NETWORK in response.json()["fields"]["values.endpoint"][0]
    assert not CloudConnection.objects.exists()
    assert listener.connections == 0


# --- webhooks ---


@pytest.mark.usefixtures("no_allowance")
@pytest.mark.parametrize(("template", "reason"), ATTACKS)
def test_webhook_urls_refuse_internal_addresses(
    template: str, reason: str, organization: Organization, listener: RecordingListener
) -> None:
    with pytest.raises(DomainError) as refused:
        configure(organization, url=attack_url(template, listener) + "/hook", secret="s" * 20)
    assert refused.value.field == "url"
    assert reason in refused.value.message
    assert not OrganizationWebhook.objects.exists()
    assert listener.connections == 0


@pytest.mark.usefixtures("no_allowance")
def test_the_webhook_api_names_the_field(api: Any, owner: Any, organization: Organization) -> None:
    response = api(owner).put(
        f"/api/v1/organizations/{organization.name}/webhook/",
        {"url": "http://169.254.169.254/latest/meta-data/", "secret": "s" * 20},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert egress.METADATA_ADDRESS in str(response.json()["fields"]["url"])
    assert not OrganizationWebhook.objects.exists()


def test_plain_http_webhooks_only_reach_allowed_networks_outside_development(
    settings: Any, organization: Organization, listener: RecordingListener
) -> None:
    settings.DEBUG = False
    hook, _ = configure(organization, url=f"{listener.url}/hook", secret="s" * 20)
    assert hook.url.startswith("http://127.0.0.1")
    settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = []
    with pytest.raises(DomainError) as refused:
        configure(organization, url=f"{listener.url}/hook", secret="s" * 20)
    assert refused.value.code == "address_refused"


@pytest.mark.usefixtures("no_allowance")
def test_the_admin_checks_webhook_urls_too(client: Any, platform_admin: Any, organization: Organization) -> None:
    client.force_login(platform_admin)
    response = client.post(
        "/admin/commits/organizationwebhook/add/",
        {"organization": organization.pk, "url": "http://[::ffff:169.254.169.254]/", "enabled": "on"},
    )
    assert response.status_code == 200
    assert egress.METADATA_ADDRESS in response.content.decode()
    assert not OrganizationWebhook.objects.exists()


def test_a_literal_is_judged_by_what_it_carries_and_connected_to_as_written() -> None:
    (destination,) = egress.vet("[2002:808:808::1]", 443)
    assert (destination.family, destination.address) == (socket.AF_INET6, "2002:808:808::1")
    (destination,) = egress.vet("0x7f.1", 80)
    assert destination.address == "127.0.0.1", "allowed here: the tests' operator allowance names loopback"


@pytest.mark.parametrize(
    ("url", "names_setting"),
    [
        ("https://10.0.0.5/", True),
        ("http://127.0.0.1:9000/", True),
        ("http://169.254.169.254/", False),
        ("http://[fe80::1]/", False),
    ],
)
def test_an_endpoint_refusal_says_what_the_operator_can_allow(settings: Any, url: str, names_setting: bool) -> None:
    """A private or loopback endpoint names the setting that would allow it; an address no setting allows does not."""

    settings.SPACEPORT_ALLOWED_PRIVATE_NETWORKS = []
    with pytest.raises(ValueError, match="Spaceport may not connect to") as caught:
        inputs.url(url)
    assert ("SPACEPORT_ALLOWED_PRIVATE_NETWORKS" in str(caught.value)) is names_setting
