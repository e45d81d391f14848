"""Campaign Dispatch scheduler."""
