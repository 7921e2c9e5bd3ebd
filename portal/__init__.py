"""Spaceport's project package and tenancy domain."""

from portal.celery import app as celery_app

__all__ = ["celery_app"]
