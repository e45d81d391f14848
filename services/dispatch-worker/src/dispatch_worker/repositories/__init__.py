"""SQL of the dispatch worker, one module per table."""
