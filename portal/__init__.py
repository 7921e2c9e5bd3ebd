"""The portal app: tenancy, audit, the web kit, auth, and the app shell Django and Celery discover."""
