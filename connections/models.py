"""Cloud connections: how Spaceport reaches an organization's storage."""
