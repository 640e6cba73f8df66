"""Canva Connect API (REST v1) connector: designs, export jobs and their files, and a simulator."""
