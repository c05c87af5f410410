# syntax=docker/dockerfile:1
# Trava: one image, N nodes. Built from requirements.txt alone (the runtime: no test tools,
# which are in requirements-dev.txt) and the entry point `make run` and CI use
# (`python -m realtime.runtime.serve`). A checkout's .env is not copied (.dockerignore).

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
RUN python -m venv /opt/venv
COPY requirements.txt .
RUN /opt/venv/bin/pip install -r requirements.txt
COPY . .
# Static files (admin, API docs, the client library) collected into the image;
# WhiteNoise serves them, compressed, without the app's finders. Settings need a key to
# load: a random one, used for this command only (nodes get theirs from the environment).
RUN SECRET_KEY="$(/opt/venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    DEBUG=1 /opt/venv/bin/python manage.py collectstatic --noinput \
    && rm -rf .venv tests bench .ci .git

FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DEBUG=0 \
    HOST=0.0.0.0 \
    PORT=8000 \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/data/media \
    WHITENOISE_USE_FINDERS=0 \
    PROXY_HEADER=X-Real-IP
RUN groupadd --system --gid 10001 trava \
    && useradd --system --uid 10001 --gid trava --home-dir /app --shell /usr/sbin/nologin trava \
    && mkdir -p /data/media \
    && chown trava:trava /data/media
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=trava:trava /app /app
WORKDIR /app
USER 10001:10001
EXPOSE 8000
VOLUME ["/data/media"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os,sys,urllib.request; sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/healthz', timeout=2).status != 200)"]
# realtime.runtime.serve wraps daphne: protocol-level pings, frame size limit, proxy headers
# (PROXY_HEADER) and a graceful SIGTERM that closes every socket with 1012.
ENTRYPOINT ["python", "-m", "realtime.runtime.serve"]
