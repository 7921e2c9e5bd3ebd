# Spaceport's one image: web (gunicorn), worker, beat and migrate all run from it (docker-compose.yml).
#
# BASE_IMAGE is any Debian-like image with Python 3.11+ and its venv module: the official python image
# by default, or a base made from Debian's own packages where no public registry can be reached.
# ENVIRONMENT_IMAGE lets a build reuse an image of the first stage built earlier (with
# --target environment) instead of installing the dependencies again; by default the stage is built here.
ARG BASE_IMAGE=python:3.11-slim
ARG ENVIRONMENT_IMAGE=environment

# The Python environment: a venv of its own (the base may have no pip), the dependencies read from
# pyproject.toml alone, the unprivileged user. It changes only when the base or the dependencies do.
FROM ${BASE_IMAGE} AS environment
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /app
COPY pyproject.toml /tmp/spaceport/
RUN python3 -m venv "$VIRTUAL_ENV" \
    && python -c "import tomllib; print('\n'.join(tomllib.load(open('/tmp/spaceport/pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/spaceport/requirements.txt \
    && pip install --no-cache-dir -r /tmp/spaceport/requirements.txt \
    && rm -r /tmp/spaceport \
    && useradd --create-home --uid 1000 spaceport \
    && install -d -o spaceport -g spaceport /app/staticfiles /app/var
USER spaceport
EXPOSE 8000
CMD ["gunicorn", "spaceport.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "-c", "python:spaceport.gunicorn_config"]

# The project, copied whole (.dockerignore keeps out tests, docs, caches and venvs, so a new app is
# never left out), owned by root and run as the unprivileged user. Static files are collected with
# the production storage (hashed names and a manifest), which only a production configuration
# selects; the throwaway keys exist for this one command and are not kept in the image.
FROM ${ENVIRONMENT_IMAGE}
COPY . .
RUN DEBUG=false \
    SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
    SPACEPORT_ENCRYPTION_KEYS="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
    python manage.py collectstatic --noinput
