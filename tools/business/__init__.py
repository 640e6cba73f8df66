"""Business tools: plans, subscription, entitlements, usage and PayPal billing."""
