"""Database layer: models, engine and sessions, migrations. Knows tables, nothing about pages."""
