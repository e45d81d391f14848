"""Campaign Dispatch template service."""
