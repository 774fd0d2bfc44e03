"""Knowledge base: indexing and full-text search (PostgreSQL FTS, SQLite FTS5), pure of Flask."""
