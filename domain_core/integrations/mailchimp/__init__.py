"""Mailchimp Marketing API v3.0 connector (audiences, members, tags, campaigns, reports, audience webhooks)."""
