"""Spaceport's project package: settings, URL confs, the Celery app and the WSGI/ASGI entry points."""

from spaceport.celery import app as celery_app

__all__ = ["celery_app"]
