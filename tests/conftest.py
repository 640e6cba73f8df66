"""Suite-wide test settings."""

import os

# Tests share runtimes across many calls; rate limiting is exercised by its own tests, which enable it.
os.environ.setdefault("PROMPTSALES_RATE_LIMITS_ENABLED", "false")
os.environ.setdefault("FASTMCP_CHECK_FOR_UPDATES", "off")
