# Peerline Telegram bot. Build: docker compose build   Run: docker compose up -d
# The base image is pinned by digest (the multi-arch index of python:3.11-slim), so a re-pushed tag can't
# change what is built. Update it with: docker buildx imagetools inspect python:3.11-slim  ("Digest:").
FROM python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PEERLINE_CONTENT_DIR=/app

WORKDIR /app

# Dependencies first, exactly as locked (every file checked against its hash), then the code without
# resolving anything again. Regenerate the lock after changing pyproject.toml (see docs/operators.md, "Supply chain").
COPY requirements.lock ./
RUN pip install --no-deps --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-deps --no-build-isolation . && pip check

# Content is data read at start-up; the build fails here if it does not validate.
COPY intents ./intents
COPY responses ./responses
COPY resources ./resources
COPY substances ./substances
COPY services ./services
RUN peerline validate

RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin peerline
USER peerline

# Webhook mode only (peerline run --webhook); long polling needs no open port.
EXPOSE 8443

CMD ["peerline", "run"]
