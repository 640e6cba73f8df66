"""The integrations context: connectors to the platforms sales and marketing teams use (framework so far)."""
