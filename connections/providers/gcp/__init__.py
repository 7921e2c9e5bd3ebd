"""Google Cloud Storage: key files, workload identity and direct IAM; downscoped tokens for people."""
