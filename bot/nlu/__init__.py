"""Understanding messages: normalising text, detecting crisis, matching intents."""
