"""Scoped, short-lived credentials for one space: what data users come to Spaceport for."""
