"""Business persistence, one module per aggregate: queries and writes, always tenant-scoped; every write flushes.

Services reach the database only through these functions, so what a later query sees never depends on
when a service happened to flush.
"""
