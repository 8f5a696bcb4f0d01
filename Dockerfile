# ArmsMonitor: one image for the web server, the Celery worker and Celery beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# GDAL, GEOS and PROJ for GeoDjango; the PostgreSQL client for pg_dump backups.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gdal-bin postgresql-client \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
RUN useradd --system --home /app armsmonitor \
 && DEBUG=false SECRET_KEY=collectstatic-only \
    CUSTODY_HMAC_KEYS=build:collectstatic-only-never-signs-any-custody-event python manage.py collectstatic --no-input -v0 \
 && mkdir -p /app/.data/media && chown -R armsmonitor /app/.data
USER armsmonitor

EXPOSE 8000
CMD ["gunicorn", "armsmonitor.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
