"""The results store: SQLAlchemy tables, Alembic migrations and ``ResultStore``."""

from qa_pipeline.store.store import Plan, ResultStore, StoredTranscript

__all__ = ["Plan", "ResultStore", "StoredTranscript"]
