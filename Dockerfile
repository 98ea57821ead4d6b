# Peerline Telegram bot. Build: docker compose build   Run: docker compose up -d
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PEERLINE_CONTENT_DIR=/app

WORKDIR /app

# Dependencies and code first, so editing content does not reinstall everything.
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install .

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
