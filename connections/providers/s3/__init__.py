"""What the S3-protocol providers (aws, ibm, s3compat) share: fields, the S3 client, presigned URLs."""
