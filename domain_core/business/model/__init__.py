"""Pure business rules: the plans catalogue, entitlements, proration and subscription transitions."""
