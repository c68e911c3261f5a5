"""Foundations every part imports: records, settings, errors, prompt files, links, logging."""
