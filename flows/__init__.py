"""Prefect 3 flows: orchestration only; every step is a ``qa_pipeline`` function."""
