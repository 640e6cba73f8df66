"""An in-process Zendesk Support simulator (Starlette), stateful per subdomain, for contract tests and sandbox mode."""

from promptsales.domain_core.integrations.zendesk.simulator.app import ZendeskSimulator

__all__ = ["ZendeskSimulator"]
