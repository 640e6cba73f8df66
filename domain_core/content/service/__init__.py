"""Content use cases, each taking a unit of work."""
