"""WHERE clauses built from fixed fragments, so every filter combination keeps an index-friendly plan."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg import sql


def where_clause(fragments: Mapping[str, str], params: Mapping[str, Any]) -> sql.Composable:
    """AND the fragment of every parameter that is set; no fragment ever interpolates a value."""
    chosen = [sql.SQL(fragment) for name, fragment in fragments.items() if params.get(name) is not None]
    if not chosen:
        return sql.SQL("")
    return sql.SQL("WHERE ") + sql.SQL(" AND ").join(chosen)
