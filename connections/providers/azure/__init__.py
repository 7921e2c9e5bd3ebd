"""Azure Blob Storage: connection strings and service principals; SAS tokens for people."""
