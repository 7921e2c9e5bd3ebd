"""Sign-in: local accounts, single sign-on and API authentication."""
