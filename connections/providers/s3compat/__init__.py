"""S3-compatible stores (VAST, MinIO, Ceph, ...): static keys; presigned URLs for people."""
