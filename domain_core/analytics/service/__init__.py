"""Analytics use cases: ingesting performance and journeys, insights, attribution and experiments."""
