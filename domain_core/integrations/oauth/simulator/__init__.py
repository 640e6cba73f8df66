"""An RFC 6749 authorization server in memory, standing in for any platform's (sandbox mode and tests)."""

from promptsales.domain_core.integrations.oauth.simulator.app import OAuthSimulator

__all__ = ["OAuthSimulator"]
