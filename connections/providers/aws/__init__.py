"""Amazon S3: access keys, OIDC web identity and cross-account roles; STS credentials for people."""
