"""Pieces every Campaign Dispatch service shares; each module is named for what it holds."""
