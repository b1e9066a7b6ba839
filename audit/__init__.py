"""Audits of what the engine decided, read from its Temporal histories."""
