"""Migration operations shared by the apps.

``RunPostgreSQL(sql, reverse_sql)``: raw SQL that only PostgreSQL runs (triggers, functions,
expression indexes); on SQLite — a laptop without PostgreSQL — it is a no-op both ways. The SQL
runs as one string (PostgreSQL needs no statement splitting), so ``$$`` bodies are safe.
"""

from __future__ import annotations

from django.db import migrations


class RunPostgreSQL(migrations.RunSQL):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        return "Raw SQL (PostgreSQL only)"
