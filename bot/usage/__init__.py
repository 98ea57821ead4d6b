"""What the bot learns from use, with no user data: daily counts and (opt-in) scrubbed unmatched messages."""

from bot.usage.recorder import Recorders, UsageRecorder
from bot.usage.stats import DayStats, UsageStats, format_usage_table, usage_chart

__all__ = ["DayStats", "Recorders", "UsageRecorder", "UsageStats", "format_usage_table", "usage_chart"]
