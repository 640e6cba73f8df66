"""An in-process HubSpot CRM v3 simulator (Starlette), stateful per portal, for contract tests and sandbox mode."""

from promptsales.domain_core.integrations.hubspot.simulator.app import HubSpotSimulator

__all__ = ["HubSpotSimulator"]
