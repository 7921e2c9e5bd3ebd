"""Organizations and spaces: their models, the roles granted on them and the rules over those, their API and pages."""
