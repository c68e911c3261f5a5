"""Ingest as jobs: the web chat's queue and `newsrag worker`."""
