"""IBM Cloud Object Storage: API keys and HMAC keys; presigned URLs for people."""
