"""Pure parts of the integrations context: connector catalogue, typed errors, usage headers, PKCE (no I/O)."""
