"""The cursor of the product's PostgreSQL connections: server-side binding, and prepared
statements that survive a schema change.

A statement a connection has prepared keeps its result type. When a migration changes it (a
column's type or length), PostgreSQL refuses the prepared statement ("cached plan must not
change result type") on every later run, and psycopg does not prepare it again by itself. Outside
a transaction nothing was done by the refused run, so the connection's prepared statements are
dropped and the statement is run once more. Inside one the error stands; the transaction's
rollback makes psycopg drop its prepared statements, so only that transaction fails.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import errors
from psycopg.pq import TransactionStatus

_STALE_PLAN = "cached plan must not change result type"


class RePreparingCursor(psycopg.Cursor[Any]):
    def execute(self, query: Any, params: Any = None, **options: Any) -> RePreparingCursor:
        try:
            super().execute(query, params, **options)
        except errors.FeatureNotSupported as error:
            connection = self.connection
            if _STALE_PLAN not in str(error) or (
                connection.info.transaction_status != TransactionStatus.IDLE
            ):
                raise
            # psycopg forgets its prepared statements when it sees this command succeed.
            connection.execute("DEALLOCATE ALL")
            super().execute(query, params, **options)
        return self
