"""Hand-built transcripts for scorer tests: turns whose words are single characters."""

from __future__ import annotations

from qa_pipeline.types import AsrProvenance, Role, RoleAssignment, Transcript, Turn, Word

SECONDS_PER_CHAR = 0.22


def turn(start_s: float, role: Role, text: str, channel: int | None = None) -> Turn:
    chars = [char for char in text]
    words = tuple(
        Word(start_s=start_s + i * SECONDS_PER_CHAR, end_s=start_s + (i + 1) * SECONDS_PER_CHAR, text=char)
        for i, char in enumerate(chars)
    )
    if channel is None:
        channel = {Role.AGENT: 0, Role.CUSTOMER: 1}.get(role, 0)
    return Turn(start_s=start_s, end_s=words[-1].end_s, channel=channel, speaker=f"ch{channel}", role=role,
                text=text, words=words)


def transcript(*turns: Turn, duration_s: float | None = None, num_channels: int = 2) -> Transcript:
    end = max((t.end_s for t in turns), default=0.0)
    return Transcript(
        call_id="test-call", recording_sha256="0" * 64, duration_s=duration_s or end + 1.0,
        num_channels=num_channels, turns=tuple(sorted(turns, key=lambda t: t.start_s)),
        roles=RoleAssignment(agent_channel=0, source="config", confidence=1.0) if num_channels == 2
        else RoleAssignment(agent_channel=None, source="none"),
        asr=AsrProvenance(engine="fake", model="none"),
    )


def conversation(lines: list[tuple[Role, str, float]], start_s: float = 0.5) -> Transcript:
    """Turns one after another: (role, text, pause after in seconds)."""
    turns, cursor = [], start_s
    for role, text, pause_s in lines:
        built = turn(cursor, role, text)
        turns.append(built)
        cursor = built.end_s + pause_s
    return transcript(*turns)
