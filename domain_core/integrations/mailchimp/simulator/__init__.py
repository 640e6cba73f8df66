"""An in-process Mailchimp Marketing API v3.0 simulator (Starlette), stateful per account, for contract tests and
sandbox mode."""

from promptsales.domain_core.integrations.mailchimp.simulator.app import EmailRates, MailchimpSimulator

__all__ = ["EmailRates", "MailchimpSimulator"]
