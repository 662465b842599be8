"""The rubric engine: QA standards (质检标准) as YAML data, and the scorer that applies them."""

from qa_pipeline.rubric.engine import compute_metrics, rescore, score_transcript, transcript_of
from qa_pipeline.rubric.schema import RULE_TYPES, Rubric, load_rubric

__all__ = [
    "RULE_TYPES", "Rubric", "compute_metrics", "load_rubric", "rescore", "score_transcript", "transcript_of",
]
