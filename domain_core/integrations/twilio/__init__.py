"""Twilio Programmable Messaging: SMS to and from CRM contacts."""
