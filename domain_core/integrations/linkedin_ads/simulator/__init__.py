"""An in-process LinkedIn Marketing API simulator (Starlette), stateful per ad account, for tests and sandbox."""

from promptsales.domain_core.integrations.linkedin_ads.simulator.app import LinkedInAdsSimulator

__all__ = ["LinkedInAdsSimulator"]
