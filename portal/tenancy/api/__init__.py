"""The API of organizations, spaces and the audit trail."""
