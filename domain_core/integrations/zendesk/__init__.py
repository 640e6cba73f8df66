"""Zendesk Support (Ticketing API v2) connector."""
