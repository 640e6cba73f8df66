"""A storage host serving pre-signed download URLs, as design platforms hand out exports (simulated)."""
