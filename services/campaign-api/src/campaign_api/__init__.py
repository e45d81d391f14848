"""Campaign Dispatch REST API."""
