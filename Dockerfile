# syntax=docker/dockerfile:1
# Flowscope image: the UI backend (and the runtime, for demo jobs).
# Stage 1 builds the frontend with Node; stage 2 is a slim Python image with the built UI.

FROM node:20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend/ ./
# vite writes the bundle to ../backend/static, card-build.mjs the card scripts to ../contract/cards/assets
RUN mkdir -p /src/backend /src/contract/cards && npm run build

FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    FLOWSCOPE_HOME=/var/lib/flowscope
WORKDIR /app
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY contract/ contract/
COPY core_runtime/ core_runtime/
COPY backend/ backend/
COPY plugins/ plugins/
COPY examples/ examples/
COPY --from=frontend /src/backend/static/ backend/static/
COPY --from=frontend /src/contract/cards/assets/ contract/cards/assets/
# Editable: the backend reads plugins/ (the manifest schema behind /api/openapi.json and
# /api/-/plugins, the plugin SDK, the built-in plugins) and examples/ beside its package, here in
# /app (the compose demo job names /app/examples). A plain `pip install .` would work too: the
# wheel carries both inside the package (setup.py, backend/shipped.py).
RUN pip install --no-cache-dir -e . \
    && groupadd --system --gid 10001 flowscope \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/flowscope --create-home flowscope
USER 10001:10001
EXPOSE 8083
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8083/api/-/version', timeout=4); sys.exit(0)"]
# Inside a container the service must listen on all interfaces; access control is the
# deployment's job (see docs/deploy.md).
CMD ["flowscope", "serve", "--host", "0.0.0.0", "--port", "8083"]
