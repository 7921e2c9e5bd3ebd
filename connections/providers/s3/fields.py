"""Fields every S3-protocol method asks for."""

from __future__ import annotations

from connections import inputs as check
from connections.providers.s3.inputs import access_key_id, s3_bucket
from connections.providers.spec import FieldSpec

BUCKET = FieldSpec("bucket", "Bucket", s3_bucket, "The bucket Spaceport keeps the organization's spaces in.")
ACCESS_KEY_ID = FieldSpec("access_key_id", "Access key id", access_key_id)
SECRET_ACCESS_KEY = FieldSpec("secret_access_key", "Secret access key", check.secret_text, secret=True, kind="password")
