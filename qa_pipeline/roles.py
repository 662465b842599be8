"""Role detection: which channel is the agent (坐席) and which the customer (客户).

The agent channel comes, in order of precedence, from the call's metadata (manifest), from the
configuration (``agent_channel: 0|1``), or, with ``auto``, from what each channel says: agents
greet with their company and 工号, offer help, verify identity and close with set phrases;
customers ask, complain and give their details. On inbound calls the agent usually speaks first,
which breaks ties.
"""

from __future__ import annotations

from qa_pipeline.text import normalize_for_matching
from qa_pipeline.types import CallMetadata, Direction, RoleAssignment, Role, Transcript

# Phrases typical of each role in Mandarin service calls, with weights. Generic domain cues, not
# tuned to any recording.
AGENT_CUES: dict[str, float] = {
    "工号": 3.0, "很高兴为您服务": 3.0, "客服": 2.0, "有什么可以帮您": 3.0, "有什么可以帮到您": 3.0,
    "请问还有其他": 2.5, "感谢您的来电": 3.0, "祝您生活愉快": 2.5, "请您稍等": 1.5, "为您查询": 2.0,
    "帮您": 1.0, "为您": 1.0, "核实": 1.5, "身份证": 1.0, "机主": 1.5, "请问您是": 1.5,
    "给您带来不便": 2.0, "非常抱歉": 1.0, "您好": 0.5, "回访": 1.5, "请问您": 0.5, "您的": 0.3,
}
CUSTOMER_CUES: dict[str, float] = {
    "我想问": 2.0, "我想": 1.0, "我要投诉": 2.5, "投诉": 1.0, "你们": 1.0, "我的": 0.5, "怎么回事": 1.5,
    "为什么": 0.5, "我要": 0.5, "喂": 0.5, "找你们领导": 2.0, "我是": 0.5,
}
_FIRST_SPEAKER_BONUS = 1.0
LOW_ROLE_CONFIDENCE = 0.6  # below this, the guess is flagged for a human


def assign_roles(
    transcript: Transcript,
    *,
    agent_channel: int | str = "auto",
    metadata: CallMetadata | None = None,
) -> Transcript:
    """Set each turn's role.

    Args:
        transcript: turns with channels (roles unknown).
        agent_channel: 0 or 1 to force the agent's channel on stereo, or ``"auto"``.
        metadata: the call's metadata; its ``agent_channel`` wins over the setting.

    Returns:
        A new transcript with roles and the ``RoleAssignment`` that explains them. Mono recordings
        keep ``unknown`` roles (until diarization separates the speakers) with a warning.
    """
    metadata = metadata or CallMetadata()
    warnings = list(transcript.warnings)
    if transcript.num_channels < 2:
        warnings.append("mono recording: agent and customer are not told apart; rules check every turn")
        return transcript.model_copy(
            update={"roles": RoleAssignment(agent_channel=None, source="none"), "warnings": tuple(warnings)}
        )
    if metadata.agent_channel is not None:
        assignment = RoleAssignment(agent_channel=metadata.agent_channel, source="metadata", confidence=1.0)
    elif agent_channel != "auto":
        assignment = RoleAssignment(agent_channel=int(agent_channel), source="config", confidence=1.0)
    else:
        assignment = detect_agent_channel(transcript, direction=metadata.direction)
        if assignment.confidence is not None and assignment.confidence < LOW_ROLE_CONFIDENCE:
            warnings.append(
                f"agent channel guessed as {assignment.agent_channel} with low confidence "
                f"({assignment.confidence:.2f}); set --agent-channel if the vendor's layout is known"
            )
    turns = tuple(
        turn.model_copy(
            update={
                "role": Role.AGENT if turn.channel == assignment.agent_channel else Role.CUSTOMER,
                "role_confidence": assignment.confidence,
            }
        )
        for turn in transcript.turns
    )
    return transcript.model_copy(update={"turns": turns, "roles": assignment, "warnings": tuple(warnings)})


def detect_agent_channel(transcript: Transcript, *, direction: Direction | None = None) -> RoleAssignment:
    """Guess the agent's channel of a stereo transcript from what each channel says.

    The confidence is the (smoothed) share of the evidence that points to the chosen channel:
    0.5 is a coin toss; it nears 1.0 as more cues agree.
    """
    evidence = [0.0, 0.0]  # evidence that channel c is the agent
    for turn in transcript.turns:
        if turn.channel > 1:
            continue
        text = normalize_for_matching(turn.text)
        agent_score = sum(weight * text.count(cue) for cue, weight in _NORMALIZED_AGENT_CUES.items())
        customer_score = sum(weight * text.count(cue) for cue, weight in _NORMALIZED_CUSTOMER_CUES.items())
        evidence[turn.channel] += agent_score
        evidence[1 - turn.channel] += customer_score
    if transcript.turns and direction != Direction.OUTBOUND:
        evidence[transcript.turns[0].channel] += _FIRST_SPEAKER_BONUS
    agent = 0 if evidence[0] >= evidence[1] else 1
    # Add-one smoothing: a little evidence gives a modest confidence, none gives 0.5.
    confidence = (evidence[agent] + 1.0) / (evidence[0] + evidence[1] + 2.0)
    return RoleAssignment(agent_channel=agent, source="auto", confidence=round(confidence, 3))


_NORMALIZED_AGENT_CUES = {normalize_for_matching(cue): weight for cue, weight in AGENT_CUES.items()}
_NORMALIZED_CUSTOMER_CUES = {normalize_for_matching(cue): weight for cue, weight in CUSTOMER_CUES.items()}
