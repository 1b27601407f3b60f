"""Who changed what: `from audit import record` inside a write's transaction."""
