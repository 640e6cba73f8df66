"""CRM use cases: keyword-only functions that take a unit of work."""
