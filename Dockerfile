# syntax=docker/dockerfile:1
# Build stage: the same install steps as the README's "Production install".
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY groupgate/ groupgate/
COPY schema/ schema/
COPY resolvers/ resolvers/
COPY authz/ authz/
COPY data/ data/
COPY policies/ policies/
RUN python -m venv /opt/groupgate \
    && /opt/groupgate/bin/python -m pip install --no-cache-dir .

# Runtime stage: the virtual environment only, run by an unprivileged user.
FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/groupgate groupgate
COPY --from=build /opt/groupgate /opt/groupgate
ENV PATH="/opt/groupgate/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GROUPGATE_ENV=production \
    GROUPGATE_HOST=0.0.0.0 \
    GROUPGATE_PORT=8000 \
    GROUPGATE_SIGNING_KEY_PATH=/var/lib/groupgate/keys \
    GROUPGATE_FILE_STORE_PATH=/var/lib/groupgate/files
USER 10001:10001
WORKDIR /var/lib/groupgate
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["groupgate", "serve"]
