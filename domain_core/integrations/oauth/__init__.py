"""OAuth 2.0 for every platform: the client and an in-process authorization server."""
