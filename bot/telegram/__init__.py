"""The Telegram adapter: python-telegram-bot updates in, engine events through, Bot API calls out.

`build_application` in `bot.telegram.application` assembles the PTB `Application`; `peerline run`
(`bot.telegram.run`) starts it with long polling or a webhook.
"""
