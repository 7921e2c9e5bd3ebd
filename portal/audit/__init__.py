"""The audit trail: recorded events, the model signals that write them, the journal, and the request context."""
