# One image for every process of the service: web, worker, beat and the sandbox.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# Prometheus metrics: every process of a container (gunicorn's workers, a Celery worker's
# children) records here, and /metrics (or METRICS_WORKER_PORT) adds them up
# (docs/operations.md). docker-compose.yml mounts a tmpfs on it, emptied at each start.
ENV PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus-multiproc
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files built with the storage that serves them at run time (DEBUG=0: hashed names and
# their manifest); the script explains the build-only settings it runs with.
# The metrics directory starts empty and the app's (the build may have written to it as root).
RUN python scripts/build_static.py \
    && useradd --system --uid 10001 app && mkdir -p /app/var && chown app /app/var \
    && rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR" \
    && chown app "$PROMETHEUS_MULTIPROC_DIR"
USER app

EXPOSE 8000
# config/gunicorn_conf.py: an access log on stdout, with connect-link tokens redacted.
CMD ["gunicorn", "--config", "python:config.gunicorn_conf", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2"]
