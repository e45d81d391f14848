"""campaign-api's broker adapters (the outbox relay itself lives in the dispatch package)."""
