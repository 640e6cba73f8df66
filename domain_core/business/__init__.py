"""Business context: plans, subscriptions, entitlements, usage metering and PayPal payments."""
