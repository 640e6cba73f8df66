"""Integrations tools: connectors, connections and syncs."""
