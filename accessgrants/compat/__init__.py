"""AccessManager-compatible endpoints, so its existing clients keep working against Spaceport."""
