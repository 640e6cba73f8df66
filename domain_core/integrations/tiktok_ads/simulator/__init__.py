"""An in-process TikTok Marketing API simulator (Starlette), stateful per advertiser, for contract tests and sandbox."""

from promptsales.domain_core.integrations.tiktok_ads.simulator.app import TikTokAdsSimulator

__all__ = ["TikTokAdsSimulator"]
