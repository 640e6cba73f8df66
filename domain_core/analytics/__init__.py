"""Analytics: performance insights across channels, multi-touch attribution and A/B experiments."""
