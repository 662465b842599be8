from datetime import datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from qa_pipeline.types import (
    AsrProvenance, CallMetadata, CallMetrics, Direction, Hit, Recording, Role, RoleAssignment, RubricRef,
    Scorecard, Severity, Transcript, Turn, Word,
)


def _turn() -> Turn:
    return Turn(
        start_s=0.12345, end_s=2.5, channel=0, speaker="ch0", role=Role.AGENT, role_confidence=0.9,
        text="您好，工号一零二四", words=(Word(start_s=0.12345, end_s=0.6, text="您好", probability=0.8),),
    )


def _scorecard() -> Scorecard:
    return Scorecard(
        call_id="c1", audio="/calls/c1.wav", audio_sha256="a" * 64, duration_s=30.0, score=90.0,
        fatal=False, passed=True, rubric=RubricRef(id="cs_inbound", version=1),
        metadata=CallMetadata(agent_id="1024", team="A", direction=Direction.INBOUND,
                              start_time=datetime(2026, 11, 21, 9, 30), extra={"queue": "vip"}),
        roles=RoleAssignment(agent_channel=0, source="auto", confidence=0.95),
        turns=(_turn(),),
        hits=(Hit(start_s=0, end_s=15, rule_id="greeting", rule_type="phrase_present", severity=Severity.DEDUCTION,
                  points=10, role=Role.AGENT, evidence="喂"),),
        metrics=CallMetrics(agent_talk_s=10, customer_talk_s=8, silence_s=12, silence_ratio=0.4, num_turns=1),
        asr=AsrProvenance(engine="faster-whisper", model="whisper-base", options={"beam_size": 5}),
    )


def test_times_are_rounded_to_milliseconds():
    assert _turn().start_s == 0.123


def test_span_must_not_end_before_it_starts():
    with pytest.raises(ValidationError, match="ends before it starts"):
        Word(start_s=2.0, end_s=1.0, text="好")


def test_negative_time_is_rejected():
    with pytest.raises(ValidationError):
        Word(start_s=-1.0, end_s=1.0, text="好")


def test_records_are_frozen():
    with pytest.raises(ValidationError):
        _turn().text = "changed"


def test_scorecard_json_round_trip_and_contract_keys():
    card = _scorecard()
    text = card.model_dump_json()
    assert Scorecard.model_validate_json(text) == card
    data = card.model_dump(mode="json")
    for key in ("call_id", "audio", "duration_s", "score", "fatal", "rubric", "turns", "hits", "metrics"):
        assert key in data
    assert set(data["rubric"]) == {"id", "version"}
    assert {"start", "end", "role", "channel", "text"} <= set(data["turns"][0])
    assert {"rule_id", "rule_type", "severity", "points", "start", "end", "role", "evidence"} <= set(data["hits"][0])
    assert data["hits"][0]["severity"] == "deduction"


def test_transcript_and_recording_round_trip():
    transcript = Transcript(
        call_id="c1", recording_sha256="b" * 64, duration_s=3.0, num_channels=2, turns=(_turn(),),
        asr=AsrProvenance(engine="fake", model="m"),
    )
    assert Transcript.model_validate_json(transcript.model_dump_json()) == transcript
    recording = Recording(call_id="c1", path=Path("/x.wav"), sha256="c" * 64, duration_s=3.0, sample_rate_hz=8000,
                          num_channels=2, codec="pcm_alaw", container_format="wav")
    assert Recording.model_validate_json(recording.model_dump_json()) == recording


def test_recording_rejects_a_bad_hash():
    with pytest.raises(ValidationError):
        Recording(call_id="c1", path=Path("/x.wav"), sha256="nothex", duration_s=3.0, sample_rate_hz=8000,
                  num_channels=1, codec="pcm", container_format="wav")
