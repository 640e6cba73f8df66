"""Integrations use cases: functions taking a unit of work and a command."""
