"""PayPal REST: a real httpx client, typed wire views, webhook signing and a sandbox simulator."""
