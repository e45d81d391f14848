"""Campaign Dispatch worker."""
