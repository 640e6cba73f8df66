"""Business use cases, each taking a unit of work."""
