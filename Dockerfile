FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app

RUN useradd --create-home --uid 1000 spaceport
COPY pyproject.toml README.md ./
COPY portal ./portal
COPY accessgrants ./accessgrants
COPY connections ./connections
COPY templates ./templates
COPY static ./static
COPY manage.py ./
RUN pip install --no-cache-dir . \
    && DEBUG=true python manage.py collectstatic --noinput

USER spaceport
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
