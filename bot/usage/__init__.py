"""What the bot learns from use, with no user data: daily counts and (opt-in) scrubbed unmatched messages."""

from bot.usage.stats import DayStats, UsageStats, format_usage_table, usage_chart

__all__ = ["DayStats", "UsageStats", "format_usage_table", "usage_chart"]
