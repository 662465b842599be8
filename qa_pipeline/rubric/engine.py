"""Scoring: a transcript and a rubric in, a ``Scorecard`` out.

Each rule's check finds hits; the engine assigns points (per hit, capped per rule), zeroes the
score on any fatal hit (一票否决), and computes the call's metrics. It reads only the transcript,
so stored transcripts can be re-scored with a new rubric without touching audio or ASR.
"""

from __future__ import annotations

from qa_pipeline.roles import LOW_ROLE_CONFIDENCE
from qa_pipeline.rubric.checks import CHECKS, NotApplicable
from qa_pipeline.rubric.schema import Rubric
from qa_pipeline.rubric.view import CallView, intersect_intervals, total_duration_s
from qa_pipeline.types import CallMetadata, CallMetrics, Hit, Role, Scorecard, Severity, Transcript, round_s


def score_transcript(
    transcript: Transcript,
    rubric: Rubric,
    *,
    audio: str,
    metadata: CallMetadata | None = None,
) -> Scorecard:
    """Apply every rule of the rubric to the transcript.

    Args:
        transcript: turns with roles.
        rubric: a validated rubric.
        audio: where the call's audio is (kept in the scorecard for reviewers).
        metadata: the call's metadata, copied into the scorecard.

    Returns:
        The scorecard: score, fatal flag, pass/fail, hits in time order, metrics.
    """
    view = CallView(transcript)
    hits: list[Hit] = []
    not_applicable: dict[str, str] = {}
    if view.has_speech:
        for rule in rubric.rules:
            result = CHECKS[rule.type](rule, view)
            if isinstance(result, NotApplicable):
                not_applicable[rule.id] = result.reason
                continue
            hits.extend(_assign_points(result, rule.points, rule.max_points, rule.category))
    else:
        not_applicable = {rule.id: "no speech was recognised" for rule in rubric.rules}
    hits.sort(key=lambda hit: (hit.start_s, hit.rule_id))
    hits = _cap_categories(hits, rubric)
    fatal = any(hit.severity is Severity.FATAL for hit in hits)
    deducted = sum(hit.points for hit in hits)
    score = 0.0 if fatal else max(rubric.base_score - deducted, 0.0)
    return Scorecard(
        call_id=transcript.call_id,
        audio=audio,
        audio_sha256=transcript.recording_sha256,
        duration_s=transcript.duration_s,
        num_channels=transcript.num_channels,
        score=round(score, 2),
        fatal=fatal,
        passed=view.has_speech and not fatal and score >= rubric.pass_score,
        needs_review=fatal or not view.has_speech or bool(transcript.silent_channels) or _roles_uncertain(transcript),
        rubric=rubric.ref,
        metadata=metadata or CallMetadata(),
        roles=transcript.roles,
        turns=transcript.turns,
        hits=tuple(hits),
        not_applicable=not_applicable,
        metrics=compute_metrics(transcript, view),
        asr=transcript.asr,
        warnings=transcript.warnings,
    )


def rescore(scorecard: Scorecard, rubric: Rubric) -> Scorecard:
    """Score a stored call again with another rubric (or version): no audio, no ASR.

    The transcript (turns with words and roles, ASR provenance) is taken from the scorecard.
    """
    return score_transcript(transcript_of(scorecard), rubric, audio=scorecard.audio, metadata=scorecard.metadata)


def transcript_of(scorecard: Scorecard) -> Transcript:
    """The transcript a scorecard was made from."""
    return Transcript(
        call_id=scorecard.call_id,
        recording_sha256=scorecard.audio_sha256,
        duration_s=scorecard.duration_s,
        num_channels=scorecard.num_channels,
        turns=scorecard.turns,
        roles=scorecard.roles,
        asr=scorecard.asr,
        warnings=scorecard.warnings,
    )


def _roles_uncertain(transcript: Transcript) -> bool:
    """Whether the roles were guessed with low confidence, or a mono call's agent and customer were
    not told apart at all (rules then read every turn: a customer's words count as the agent's)."""
    if transcript.num_channels < 2 and transcript.roles.source == "none":
        return bool(transcript.turns)
    confidence = transcript.roles.confidence
    guessed = transcript.num_channels > 1 or transcript.roles.source == "auto"  # mono: diarized and guessed
    return guessed and (confidence is None or confidence < LOW_ROLE_CONFIDENCE)


def _assign_points(hits: list[Hit], points: float, max_points: float | None, category: str) -> list[Hit]:
    """Deduct ``points`` per deduction hit until the rule's cap is reached; tag the category."""
    result, total = [], 0.0
    for hit in hits:
        if hit.severity is not Severity.DEDUCTION:
            result.append(hit.model_copy(update={"category": category}))
            continue
        allowed = points if max_points is None else max(min(points, max_points - total), 0.0)
        total += allowed
        result.append(hit.model_copy(update={"points": allowed, "category": category}))
    return result


def _cap_categories(hits: list[Hit], rubric: Rubric) -> list[Hit]:
    """Apply each category's ``max_points`` to its hits, in time order."""
    spent: dict[str, float] = {}
    result = []
    for hit in hits:
        category = rubric.categories.get(hit.category or "")
        if category is None or category.max_points is None or not hit.points:
            result.append(hit)
            continue
        allowed = max(min(hit.points, category.max_points - spent.get(hit.category, 0.0)), 0.0)
        spent[hit.category] = spent.get(hit.category, 0.0) + allowed
        result.append(hit if allowed == hit.points else hit.model_copy(update={"points": allowed}))
    return result


def compute_metrics(transcript: Transcript, view: CallView | None = None) -> CallMetrics:
    """Talk time per role, silence, overlap and the agent's speech rate, from word times."""
    view = view or CallView(transcript)
    agent = view.speech_intervals(Role.AGENT)
    customer = view.speech_intervals(Role.CUSTOMER)
    unknown = view.speech_intervals(Role.UNKNOWN)
    speech_s = total_duration_s(view.speech_intervals())
    gaps = [end - start for start, end in view.silences()]
    duration_s = transcript.duration_s
    silence_s = max(duration_s - speech_s, 0.0)
    agent_talk_s = total_duration_s(agent)
    agent_chars = view.num_chars(Role.AGENT)
    return CallMetrics(
        agent_talk_s=round_s(agent_talk_s),
        customer_talk_s=round_s(total_duration_s(customer)),
        unknown_talk_s=round_s(total_duration_s(unknown)),
        silence_s=round_s(silence_s),
        silence_ratio=round(min(silence_s / duration_s, 1.0), 4) if duration_s else 0.0,
        longest_silence_s=round_s(max(gaps, default=0.0)),
        overlap_s=round_s(total_duration_s(intersect_intervals(agent, customer))),
        num_turns=len(transcript.turns),
        agent_chars_per_minute=round(agent_chars / (agent_talk_s / 60), 1) if agent_talk_s >= 1.0 else None,
    )
