"""What every layer may use: domain errors, caches, printable-text checks, lookups, versioned snapshots."""
