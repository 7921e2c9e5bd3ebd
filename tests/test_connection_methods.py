"""Each method's input is checked field by field, and bad input names the field without echoing secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connections.methods import Method, all_specs, clean_input
from connections.providers.spec import ConnectionInputError
from tests.connection_inputs import VALID_INPUTS, external_account, service_account_key


def test_every_method_has_a_valid_example_and_an_explanation() -> None:
    assert set(VALID_INPUTS) == set(all_specs()) == set(Method.values)
    for spec in all_specs().values():
        assert spec.summary
        assert len(spec.risk) > 40


@pytest.mark.parametrize("method", sorted(VALID_INPUTS))
def test_valid_input_splits_into_config_and_secret(method: str) -> None:
    config, secret = clean_input(method, VALID_INPUTS[method])
    spec = all_specs()[method]
    assert set(secret) == {f.name for f in spec.secret_fields if f.name in VALID_INPUTS[method]}
    for field in spec.secret_fields:
        assert field.name not in config
    for value in secret.values():
        assert json.dumps(value, default=str) not in json.dumps(config)


def _errors(method: str, **changes: Any) -> dict[str, str]:
    values = {**VALID_INPUTS[method], **changes}
    with pytest.raises(ConnectionInputError) as raised:
        clean_input(method, {k: v for k, v in values.items() if v is not None})
    return raised.value.errors


@pytest.mark.parametrize(
    ("method", "field", "value", "says"),
    [
        ("aws_cross_account_role", "role_arn", "arn:aws:iam::12345:role/x", "role ARN"),
        ("aws_cross_account_role", "role_arn", "arn:aws:s3:::bucket", "role ARN"),
        ("aws_access_keys", "bucket", "Acme_Data", "Bucket names"),
        ("aws_access_keys", "bucket", "192.168.1.10", "IP address"),
        ("aws_access_keys", "bucket", "ab", "Bucket names"),
        ("aws_access_keys", "region", "Frankfurt", "region"),
        ("aws_access_keys", "secret_access_key", None, "required"),
        ("s3_static_keys", "endpoint", "ftp://store", "URL"),
        ("s3_static_keys", "endpoint", "https://user:pw@store", "credentials in the URL"),
        ("s3_static_keys", "addressing_style", "sideways", "path or virtual"),
        ("s3_static_keys", "prefix", "/abs/", "no leading slash"),
        ("azure_service_principal", "tenant_id", "not-a-guid", "GUID"),
        ("azure_service_principal", "client_secret", "", "client secret or upload a certificate"),
        ("azure_connection_string", "connection_string", "AccountName=acmedata;EndpointSuffix=x", "AccountKey"),
        ("azure_connection_string", "connection_string", "AccountName=acmedata;AccountKey", "incomplete"),
        ("azure_connection_string", "connection_string", "Password=x;AccountName=a", "not a storage connection"),
        ("gcp_service_account_key", "key_json", "{not json", "not valid JSON"),
        ("gcp_service_account_key", "key_json", json.dumps({"type": "authorized_user"}), "service_account"),
        (
            "gcp_service_account_key",
            "key_json",
            json.dumps(
                {
                    **service_account_key(),
                    "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                }
            ),
            "PEM private key",
        ),
        (
            "gcp_service_account_key",
            "key_json",
            json.dumps({**service_account_key(), "client_email": ""}),
            "client_email",
        ),
        ("gcp_service_account_key", "key_json", " " * (64 * 1024 + 1), "64 KiB"),
        (
            "gcp_workload_identity",
            "credential_config",
            json.dumps({**external_account(), "token_url": "nope"}),
            "token_url",
        ),
        (
            "gcp_workload_identity",
            "credential_config",
            json.dumps({**external_account(), "credential_source": {}}),
            "credential_source",
        ),
        ("gcp_workload_identity", "bucket", "goog-data", "goog"),
    ],
)
def test_bad_input_names_the_field(method: str, field: str, value: Any, says: str) -> None:
    errors = _errors(method, **{field: value})
    assert field in errors
    assert says in errors[field]


def test_secrets_are_not_echoed_in_errors() -> None:
    secret = "DefaultEndpointsProtocol=https;AccountName=acmedata;AccountKey=TOPSECRETKEY=="
    errors = _errors("azure_connection_string", connection_string=secret + ";Bogus=1")
    assert "TOPSECRETKEY" not in json.dumps(errors)
    broken_key = json.dumps({**service_account_key(), "private_key": "-----BEGIN PRIVATE KEY-----\nSECRETBYTES\n"})
    errors = _errors("gcp_service_account_key", key_json=broken_key)
    assert "SECRETBYTES" not in json.dumps(errors)


def test_unknown_fields_are_refused_rather_than_dropped() -> None:
    errors = _errors("aws_access_keys", secret_key="typo")
    assert "secret_key" in errors


def test_an_empty_secret_on_edit_keeps_the_stored_one() -> None:
    values = dict(VALID_INPUTS["aws_access_keys"])
    stored = {"secret_access_key": values.pop("secret_access_key")}
    config, secret = clean_input("aws_access_keys", values, existing_secret=stored)
    assert secret == stored
    assert config["bucket"] == "acme-data"


def test_the_service_account_email_is_kept_as_configuration() -> None:
    config, secret = clean_input("gcp_service_account_key", VALID_INPUTS["gcp_service_account_key"])
    assert config["client_email"] == "spaceport@acme-data.iam.gserviceaccount.com"
    assert secret["key_json"]["type"] == "service_account"


def test_defaults_fill_optional_fields() -> None:
    config, _ = clean_input("s3_static_keys", VALID_INPUTS["s3_static_keys"])
    assert config["addressing_style"] == "path"
    assert config["verify_tls"] is False
    assert config["region"] == "us-east-1"
    assert config["prefix"] == ""
