FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /srv/hindsight

COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
COPY config ./config
COPY demo ./demo
COPY worker.py gunicorn.conf.py ./
RUN pip install . \
 && useradd --system --uid 10001 --home-dir /srv/hindsight hindsight \
 && mkdir -p /srv/hindsight/data \
 && chown -R hindsight /srv/hindsight

USER hindsight
ENV HINDSIGHT_CONFIG_DIR=/srv/hindsight/config PROMETHEUS_MULTIPROC_DIR=/tmp/hindsight-metrics
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
CMD ["sh", "-c", "hindsight init-db && exec gunicorn 'app:create_app()'"]
