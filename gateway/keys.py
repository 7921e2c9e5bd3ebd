"""The secret lookup :func:`gateway.sigv4.verify` is given in the gateway: Spaceport's access keys.

A key that may not sign is refused as AWS refuses an unknown or inactive key, with the reason in
the message so its holder can tell a typo from an expired key (the reason names nothing of the key
beyond its state).
"""

from __future__ import annotations

from accessgrants.keysecrets import key_secret
from gateway.errors import S3Error


def access_key_secret(access_key_id: str) -> str:
    """The signing secret of the Spaceport access key ``access_key_id``, or :class:`S3Error`."""
    found = key_secret(access_key_id)
    if found.secret is None:
        raise S3Error(
            "InvalidAccessKeyId",
            f"The access key id you provided cannot sign requests: {found.refusal or 'no such access key'}.",
        )
    return found.secret
