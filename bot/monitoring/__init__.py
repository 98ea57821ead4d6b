"""Watching a running bot from outside: Prometheus metrics and a health check, on their own HTTP port."""
