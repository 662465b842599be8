"""Diarization of mono recordings, turns and roles per speaker, stereo echo, the pyannote adapter.

The embedding diarizer runs for real (Silero VAD from faster-whisper, resemblyzer's encoder from
its wheel): no Whisper model is needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from audio_factory import tone, write_audio
from conftest import SAMPLES_DIR, FakeTranscriber, segment
from pyannote.core import Annotation, Segment
from pyannote.metrics.diarization import DiarizationErrorRate
from sklearn.cluster import KMeans
from transcripts import transcript, turn

from qa_pipeline.audio import DecodedAudio, read_recording
from qa_pipeline.diarization import (
    EmbeddingDiarizer,
    _cluster,
    cluster_embeddings,
    _normalize,
    PyannoteDiarizer,
    get_diarizer,
    remove_echo,
    speech_regions,
)
from qa_pipeline.errors import ConfigurationError
from qa_pipeline.evaluation import speech_by_energy
from qa_pipeline.roles import (
    VoiceEvidence,
    assign_roles,
    detect_agent_speakers,
    sentences,
    speaks_as_two_parties,
    split_by_content,
    voice_evidence,
)
from qa_pipeline.settings import ASRSettings, DiarizationSettings, Settings
from qa_pipeline.transcribe import split_by_speaker, transcribe_recording
from qa_pipeline.types import Diarization, Role, SpeakerSegment, Turn, Word

DATA = Path(__file__).parent / "data"
CALL = SAMPLES_DIR / "calls" / "20261121_agent1024_teamA_in_0001.wav"  # agent on the left


@pytest.fixture(scope="module")
def diarizer() -> EmbeddingDiarizer:
    return EmbeddingDiarizer(DiarizationSettings())


@pytest.fixture(scope="module")
def stereo() -> DecodedAudio:
    return read_recording(CALL, settings=Settings().audio)[1]


def reference_of(channels: dict[str, np.ndarray]) -> Annotation:
    """Who spoke when, from each party's own clean channel (by level, not by the VAD under test)."""
    annotation = Annotation()
    for label, samples in channels.items():
        for start_s, end_s in speech_by_energy(samples):
            annotation[Segment(start_s, end_s)] = label
    return annotation


def as_annotation(diarization: Diarization) -> Annotation:
    annotation = Annotation()
    for seg in diarization.segments:
        annotation[Segment(seg.start_s, seg.end_s)] = seg.speaker
    return annotation


def test_two_voices_of_a_mono_mix_are_found_with_their_turns(diarizer, stereo) -> None:
    result = diarizer.diarize(stereo.channel(0) + stereo.channel(1))

    assert result.num_speakers == 2 and result.method == "embedding"
    reference = reference_of({"agent": stereo.channel(0), "customer": stereo.channel(1)})
    assert DiarizationErrorRate(collar=0.25)(reference, as_annotation(result)) < 0.1
    assert result.segments[0].speaker == "spk0"  # named in order of appearance
    assert all(0 <= seg.confidence <= 1 for seg in result.segments)


def test_overlapping_speech_still_gives_two_voices(diarizer, stereo) -> None:
    shift = int(1.5 * stereo.sample_rate_hz)  # the customer starts before the agent has finished
    customer = np.concatenate([stereo.channel(1)[shift:], np.zeros(shift, dtype=np.float32)])
    reference = reference_of({"agent": stereo.channel(0), "customer": customer})
    assert reference.get_overlap().duration() > 1.0

    result = diarizer.diarize(stereo.channel(0) + customer)

    assert result.num_speakers == 2
    assert DiarizationErrorRate(collar=0.25)(reference, as_annotation(result)) < 0.2


def test_pauses_inside_one_voices_talk_are_left_out(diarizer, stereo) -> None:
    # The agent's greeting and the line after it, a 0.25 s pause between them: too short for the
    # voice clustering's speech regions to split at, long enough to be nobody's speech.
    agent = stereo.channel(0)
    speech = speech_by_energy(agent)
    first, second = (agent[int(a * 16_000): int(b * 16_000)] for a, b in speech[:2])
    pause_s = 0.25
    samples = np.concatenate([first, np.zeros(int(pause_s * 16_000), np.float32), second])

    result = diarizer.diarize(samples)

    assert len(speech_regions(samples)) == 1  # one region for the voice clustering
    first_s = len(first) / 16_000
    gaps = [(a.end_s, b.start_s) for a, b in zip(result.segments, result.segments[1:])]
    assert any(start_s <= first_s + 0.1 and end_s >= first_s + pause_s - 0.1 for start_s, end_s in gaps)
    assert not any(seg.start_s < first_s + 0.1 and seg.end_s > first_s + pause_s - 0.1 for seg in result.segments)


def test_three_voices_of_a_transferred_call(diarizer) -> None:
    audio = read_recording(DATA / "three_voices.wav", settings=Settings().audio)[1]
    script = yaml.safe_load((DATA / "three_voices.yaml").read_text("utf-8"))
    reference = Annotation()
    for line in script["turns"]:
        reference[Segment(line["start_s"], line["end_s"])] = line["speaker"]

    result = diarizer.diarize(audio.channel(0))

    assert result.num_speakers == 3
    # The reference spans each synthesized sentence with its silent edges: judge who, not where.
    details = DiarizationErrorRate(collar=0.25)(reference, as_annotation(result), detailed=True)
    assert details["confusion"] / details["total"] < 0.03


def test_one_voice_greeting_alone_is_one_speaker(diarizer, stereo) -> None:
    # The agent's greeting, then the line drops: under 2 × min_speaker_s of speech cannot hold two
    # voices. (Longer one-voice recordings can be split in two: see the README's limits.)
    greeting = stereo.channel(0)[: 7 * stereo.sample_rate_hz]

    result = diarizer.diarize(greeting)

    assert result.num_speakers == 1 and {seg.speaker for seg in result.segments} == {"spk0"}


def test_voices_too_close_by_sound_come_with_their_two_voice_splits(stereo) -> None:
    mix = stereo.channel(0) + stereo.channel(1)
    strict = EmbeddingDiarizer(DiarizationSettings(split_distance=1.9))  # no two voices are this far apart

    result = strict.diarize(mix)

    assert result.num_speakers == 1
    assert result.two_voice_splits and all({seg.speaker for seg in split} == {"spk0", "spk1"}
                                           for split in result.two_voice_splits)
    reference = reference_of({"agent": stereo.channel(0), "customer": stereo.channel(1)})
    split = result.model_copy(update={"segments": result.two_voice_splits[0]})
    assert DiarizationErrorRate(collar=0.25)(reference, as_annotation(split)) < 0.1
    # Nor is one offered when two voices were found clearly apart, or when one voice is all there may be.
    assert EmbeddingDiarizer(DiarizationSettings()).diarize(mix).two_voice_splits == ()
    assert EmbeddingDiarizer(DiarizationSettings(max_speakers=1)).diarize(mix).two_voice_splits == ()


def test_a_quiet_party_is_offered_apart_and_a_sliver_is_not() -> None:
    rng = np.random.default_rng(0)
    talkative, quiet = _normalize(rng.normal(size=256)), _normalize(rng.normal(size=256))
    embeddings = np.stack([_normalize(v + rng.normal(scale=0.05, size=256)) for v in [talkative] * 30 + [quiet] * 6])
    windows = np.array([(i * 1.0, i * 1.0 + 0.5, i) for i in range(36)])  # 0.5 s of speech each

    labels, candidates = _cluster(embeddings, windows, DiarizationSettings())  # 3 s of the quiet voice

    assert len(set(labels)) == 2 and candidates == []
    labels, candidates = _cluster(embeddings[:32], windows[:32], DiarizationSettings())  # 1 s of the quiet one
    assert len(set(labels)) == 1
    assert any(len(set(c[:30])) == 1 and set(c[30:]) == set(c) - set(c[:30]) for c in candidates)
    labels, candidates = _cluster(embeddings[:31], windows[:31], DiarizationSettings())  # 0.5 s: a sliver
    assert len(set(labels)) == 1
    assert not any(c[30] not in c[:30] for c in candidates)  # never set apart (halves of the other may be)


@pytest.mark.parametrize("answers", [5, 2])  # 5 s of the customer's speech; 2 s, under min_speaker_s
def test_a_party_who_only_answers_briefly_is_not_lost_inside_a_halved_talkative_one(answers) -> None:
    # The agent talks in six long stretches (3.75 s, 10 windows each), in two manners a little
    # apart; the customer answers a few times (1 s, one window each), in a voice further away.
    rng = np.random.default_rng(3)
    manner_a, manner_b, customer = (_normalize(v) for v in rng.normal(size=(3, 256)))
    manner_b = _normalize(manner_a + 0.55 * manner_b)  # about 0.13 from manner_a (cosine)
    customer = _normalize(manner_a + 1.2 * customer)  # about 0.36 from manner_a
    speakers: list[np.ndarray] = []
    windows: list[tuple[float, float, int]] = []  # start_s, end_s, speech region
    start_s, region = 0.0, 0
    for stretch in range(6):
        windows += [(start_s + 0.25 * i, start_s + 0.25 * i + 1.5, region) for i in range(10)]
        speakers += [manner_a if stretch % 2 else manner_b] * 10
        start_s, region = start_s + 5.0, region + 1
        if stretch < answers:
            windows.append((start_s, start_s + 1.0, region))
            speakers.append(customer)
            start_s, region = start_s + 2.0, region + 1
    embeddings = np.stack([_normalize(v + rng.normal(scale=0.02, size=256)) for v in speakers])
    is_customer = np.array([v is customer for v in speakers])
    halves = KMeans(n_clusters=2, n_init=5, random_state=0).fit_predict(embeddings)
    assert len(set(halves[~is_customer])) == 2  # k-means over every window halves the agent

    settings = DiarizationSettings()
    assert (answers * 1.0 < settings.min_speaker_s) == (answers == 2)

    labels, candidates = _cluster(embeddings, np.array(windows), settings)

    assert len(set(labels)) == 2
    assert len(set(labels[is_customer])) == len(set(labels[~is_customer])) == 1
    # A voice heard for only 2 s is not sure enough: what the two say is still checked.
    assert bool(candidates) == (answers == 2)


@pytest.mark.parametrize(("third_voice_windows", "voices"), [(8, 2), (16, 3)])  # 4 s, 8 s of speech
def test_a_third_voice_needs_to_talk_at_length(third_voice_windows, voices) -> None:
    rng = np.random.default_rng(2)
    agent, customer, third = (_normalize(v) for v in rng.normal(size=(3, 256)))
    speakers = [agent] * 30 + [customer] * 20 + [third] * third_voice_windows
    embeddings = np.stack([_normalize(v + rng.normal(scale=0.05, size=256)) for v in speakers])
    windows = np.array([(i * 1.0, i * 1.0 + 0.5, i) for i in range(len(speakers))])  # 0.5 s of speech each
    settings = DiarizationSettings()
    assert settings.min_speaker_s < 4.0 < settings.min_extra_speaker_s < 8.0

    labels = cluster_embeddings(embeddings, windows, settings)

    assert len(set(labels)) == voices and len(set(labels[:30])) == len(set(labels[30:50])) == 1


def _two_voices(distance: float, rng: np.random.Generator) -> np.ndarray:
    """20 windows of each of two voices whose centroids are ``distance`` apart (cosine)."""
    first, other = rng.normal(size=(2, 256))
    first = _normalize(first)
    orthogonal = _normalize(other - (other @ first) * first)
    angle = np.arccos(1 - distance)
    second = np.cos(angle) * first + np.sin(angle) * orthogonal
    return np.stack([_normalize(v + rng.normal(scale=0.01, size=256)) for v in [first] * 20 + [second] * 20])


@pytest.mark.parametrize(("distance", "offered"), [(0.11, True), (0.4, False)])
def test_two_voices_barely_apart_come_with_other_splits_and_clearly_apart_do_not(distance, offered) -> None:
    embeddings = _two_voices(distance, np.random.default_rng(1))
    windows = np.array([(i * 1.0, i * 1.0 + 0.5, i) for i in range(40)])
    settings = DiarizationSettings()
    assert settings.split_distance < 0.11 < settings.content_check_distance < 0.4

    labels, candidates = _cluster(embeddings, windows, settings)

    assert len(set(labels)) == 2 and len(set(labels[:20])) == len(set(labels[20:])) == 1
    assert bool(candidates) == offered
    assert not any(len(set(zip(c.tolist(), labels.tolist()))) == 2 for c in candidates)  # not the kept split again


def test_silence_and_noise_have_no_speakers(diarizer) -> None:
    rng = np.random.default_rng(0)
    quiet = (rng.normal(0, 10 ** (-60 / 20), 16_000 * 20)).astype(np.float32)

    result = diarizer.diarize(quiet)

    assert result.segments == () and result.num_speakers == 0


def test_max_speakers_caps_the_voices(stereo) -> None:
    capped = EmbeddingDiarizer(DiarizationSettings(max_speakers=1))
    assert capped.diarize(stereo.channel(0) + stereo.channel(1)).num_speakers == 1


SPEAKERS = Diarization(
    segments=(SpeakerSegment(start_s=0.0, end_s=2.6, speaker="spk0", confidence=0.9),
              SpeakerSegment(start_s=2.7, end_s=5.0, speaker="spk1", confidence=0.7)),
    num_speakers=2, method="embedding",
)


def test_a_mono_turn_is_cut_where_the_speaker_changes() -> None:
    mono_turn = turn(1.1, Role.UNKNOWN, "您好请讲我想查话费", channel=0)  # 9 chars, 0.22 s each: 1.1..3.08

    pieces = split_by_speaker(mono_turn, SPEAKERS)

    assert [(p.speaker, p.text) for p in pieces] == [("spk0", "您好请讲我想查"), ("spk1", "话费")]
    assert [p.diarization_confidence for p in pieces] == [0.9, 0.7]
    assert pieces[1].start_s >= 2.6 and pieces[0].words[-1].end_s <= pieces[1].words[0].start_s
    assert mono_turn.speaker == "ch0"  # the input is not changed


def test_a_word_run_on_over_the_pause_goes_to_the_voice_that_said_it() -> None:
    # 「喂你好」 by spk0, then spk1's 「您好」: Whisper starts 您 where 好 ended, over the pause.
    words = (Word(start_s=0.2, end_s=0.6, text="喂"), Word(start_s=0.6, end_s=1.0, text="你"),
             Word(start_s=1.0, end_s=1.3, text="好"), Word(start_s=1.3, end_s=2.9, text="您"),
             Word(start_s=2.9, end_s=3.1, text="好"))
    mono_turn = Turn(start_s=0.2, end_s=3.1, channel=0, speaker="ch0", text="喂你好您好", words=words)

    pieces = split_by_speaker(mono_turn, SPEAKERS)

    assert [(p.speaker, p.text) for p in pieces] == [("spk0", "喂你好"), ("spk1", "您好")]


def test_a_mono_turn_away_from_every_diarized_voice_goes_to_the_nearest() -> None:
    late = turn(9.0, Role.UNKNOWN, "好的再见", channel=0)  # SPEAKERS end at 5 s
    (piece,) = split_by_speaker(late, SPEAKERS)
    assert piece.speaker == SPEAKERS.segments[-1].speaker and piece.text == "好的再见"


class AudibleTranscriber:
    """Gives back each canned segment from every stream in which it can be heard: the stream is
    louder than faint noise over most of the segment's span. Keeps the streams it was given."""

    def __init__(self, segments: list) -> None:  # type: ignore[type-arg]
        self.segments = segments
        self.streams: list[np.ndarray] = []

    @property
    def provenance(self):  # type: ignore[no-untyped-def]
        return FakeTranscriber({}).provenance

    def transcribe_channels(self, channels: list[np.ndarray]) -> list[list]:  # type: ignore[type-arg]
        self.streams.extend(channels)
        return [[s for s in self.segments
                 if np.mean(np.abs(samples[int(s.start_s * 16_000): int(s.end_s * 16_000)]) > 0.01) > 0.5]
                for samples in channels]


AGENT_THEN_CUSTOMER = [segment(0.2, "您好工号一零二四请讲"), segment(2.9, "我想查一下话费")]  # 0.2-2.7, 2.9-4.65
AGENT_THEN_CUSTOMER_AUDIO = np.concatenate([np.zeros(1600, np.float32), tone(2.45, 8000),  # 0.2-2.65
                                            np.zeros(2000, np.float32), tone(1.75, 8000, 220.0),  # 2.9-4.65
                                            np.zeros(2800, np.float32)])  # to 5 s


def test_mono_speakers_told_apart_by_sound_are_decoded_one_by_one_as_stereo_channels_are(tmp_path) -> None:
    path = write_audio(tmp_path / "mono.wav", AGENT_THEN_CUSTOMER_AUDIO, 8000)
    recording, audio = read_recording(path, settings=Settings().audio)
    asr = AudibleTranscriber(AGENT_THEN_CUSTOMER)

    result = transcribe_recording(recording, audio, asr, diarization=SPEAKERS)

    # One stream per speaker, each with only faint noise where the other speaks (the change
    # half-way through the pause); never digital silence, which Whisper takes for the end.
    assert len(asr.streams) == 2
    agent_stream, customer_stream = asr.streams
    change = int(2.65 * 16_000)
    mix = audio.channel(0)
    assert np.array_equal(agent_stream[: change - 160], mix[: change - 160])
    assert np.array_equal(customer_stream[change + 160:], mix[change + 160:])
    for others in (agent_stream[change + 160:], customer_stream[: change - 160]):
        assert others.any() and np.abs(others).max() < 1e-3
    assert [(t.speaker, t.text, t.diarization_confidence) for t in result.turns] == [
        ("spk0", "您好工号一零二四请讲", 0.9), ("spk1", "我想查一下话费", 0.7)]
    labelled = assign_roles(result)
    assert [t.role for t in labelled.turns] == [Role.AGENT, Role.CUSTOMER]
    assert labelled.roles.agent_speakers == ("spk0",) and labelled.roles.source == "auto"


@pytest.mark.parametrize("case", ["asked", "voices barely apart", "one voice"])
def test_the_mix_is_decoded_at_once_and_shared_out_by_speaker_otherwise(tmp_path, case: str) -> None:
    path = write_audio(tmp_path / "mono.wav", AGENT_THEN_CUSTOMER_AUDIO, 8000)
    recording, audio = read_recording(path, settings=Settings().audio)
    asr = AudibleTranscriber(AGENT_THEN_CUSTOMER)
    options = ASRSettings(decode_by_speaker=case != "asked")
    diarization = {"asked": SPEAKERS, "one voice": ONE_VOICE,
                   "voices barely apart": SPEAKERS.model_copy(update={"two_voice_splits": CLOSE_VOICES.two_voice_splits})}[case]

    result = transcribe_recording(recording, audio, asr, options, diarization=diarization)

    assert len(asr.streams) == 1 and np.array_equal(asr.streams[0], audio.channel(0))
    expected = ["spk0", "spk0"] if case == "one voice" else ["spk0", "spk1"]
    assert [t.speaker for t in result.turns] == expected


def _mono(*specs):  # (start_s, speaker, text)
    turns = [turn(start, Role.UNKNOWN, text, channel=0).model_copy(update={"speaker": speaker})
             for start, speaker, text in specs]
    return transcript(*turns, num_channels=1)


def test_the_agent_is_found_among_diarized_speakers_whoever_speaks_first() -> None:
    customer_first = _mono((0.5, "spk0", "喂你好我想问一下我的账单"), (4.0, "spk1", "您好工号一零二四很高兴为您服务"),
                           (9.0, "spk0", "为什么扣了这么多钱"), (12.0, "spk1", "请您稍等我为您查询"))
    assert detect_agent_speakers(customer_first).agent_speakers == ("spk1",)


def test_a_transfer_gives_two_agents_and_one_customer() -> None:
    transferred = _mono((0.5, "spk0", "您好客服中心工号三零一二请问有什么可以帮您"), (5.0, "spk1", "我的卡被盗刷了我想冻结"),
                        (9.0, "spk0", "好的为您转接请您稍等"), (13.0, "spk2", "您好我是风控专员工号五五一零为您处理"),
                        (18.0, "spk1", "好的谢谢"))
    labelled = assign_roles(transferred)
    roles = {t.speaker: t.role for t in labelled.turns}
    assert roles == {"spk0": Role.AGENT, "spk1": Role.CUSTOMER, "spk2": Role.AGENT}


# One voice by sound, split in two when what the voices say shows an agent and a customer.
CLOSE_VOICES = Diarization(
    segments=(SpeakerSegment(start_s=0.0, end_s=30.0, speaker="spk0", confidence=1.0),), num_speakers=1,
    method="embedding",
    two_voice_splits=((SpeakerSegment(start_s=0.0, end_s=9.0, speaker="spk0", confidence=0.6),  # the agent halved
                       SpeakerSegment(start_s=9.0, end_s=30.0, speaker="spk1", confidence=0.6)),
                      (SpeakerSegment(start_s=0.0, end_s=4.5, speaker="spk0", confidence=0.55),
                       SpeakerSegment(start_s=4.5, end_s=9.0, speaker="spk1", confidence=0.55),
                       SpeakerSegment(start_s=9.0, end_s=30.0, speaker="spk0", confidence=0.55))),
)


def test_close_voices_are_told_apart_by_what_they_say() -> None:
    one_voice = _mono((0.5, "spk0", "您好工号一零二四很高兴为您服务"), (5.0, "spk0", "我想问一下我的账单"),
                      (10.0, "spk0", "好的请您稍等我为您查询"))

    labelled = assign_roles(one_voice, diarization=CLOSE_VOICES)

    assert [(t.speaker, t.role) for t in labelled.turns] == [
        ("spk0", Role.AGENT), ("spk1", Role.CUSTOMER), ("spk0", Role.AGENT)]
    assert [t.diarization_confidence for t in labelled.turns] == [0.55] * 3
    assert any("what they say" in warning for warning in labelled.warnings)


@pytest.mark.parametrize("second_voice_says", [
    "感谢您的来电祝您生活愉快",  # the agent's closing: one agent heard as two voices
    "好的",  # nothing that tells a customer
])
def test_close_voices_stay_one_when_what_they_say_is_one_party(second_voice_says) -> None:
    one_voice = _mono((0.5, "spk0", "您好工号一零二四很高兴为您服务"), (5.0, "spk0", second_voice_says),
                      (10.0, "spk0", "请问还有其他问题吗"))

    labelled = assign_roles(one_voice, diarization=CLOSE_VOICES)

    # One voice that says nothing of a customer's: the agent's (see the lone-agent tests below).
    assert {t.speaker for t in labelled.turns} == {"spk0"} and labelled.roles.agent_speakers == ("spk0",)
    assert {t.role for t in labelled.turns} == {Role.AGENT}


# One voice by sound, and no split into two that sound could offer (too little speech apart).
ONE_VOICE = Diarization(segments=(SpeakerSegment(start_s=0.3, end_s=8.0, speaker="spk0", confidence=1.0),
                                  SpeakerSegment(start_s=9.5, end_s=20.0, speaker="spk0", confidence=1.0)),
                        num_speakers=1, method="embedding")


def test_one_voice_is_cut_turn_by_turn_when_its_turns_talk_as_agent_and_customer() -> None:
    one_voice = _mono((0.5, "spk0", "您好工号一零二四很高兴为您服务"), (5.0, "spk0", "我想问一下你们为什么扣我钱"),
                      (10.0, "spk0", "好的请您稍等我为您查询"), (15.0, "spk0", "好的"))

    labelled = assign_roles(one_voice, diarization=ONE_VOICE)

    # The question is the customer's; 「好的」 says nothing of who said it and stays with the agent.
    assert [(t.speaker, t.role) for t in labelled.turns] == [
        ("spk0", Role.AGENT), ("spk1", Role.CUSTOMER), ("spk0", Role.AGENT), ("spk0", Role.AGENT)]
    assert any("sentence by sentence" in warning for warning in labelled.warnings)
    split = split_by_content(one_voice, ONE_VOICE)
    # Speech goes to the side of the nearest turn: the first edge is half-way between the greeting
    # and the question; the question's side ends with the first segment (the next turn is the agent's).
    first_end = one_voice.turns[0].end_s
    second = one_voice.turns[1]
    assert [(seg.speaker, seg.start_s, seg.end_s) for seg in split.segments] == [
        ("spk0", 0.3, round((first_end + second.start_s) / 2, 3)),
        ("spk1", round((first_end + second.start_s) / 2, 3), 8.0),
        ("spk0", 9.5, 20.0)]


def test_a_customer_who_greets_with_nin_hao_is_still_the_customer() -> None:
    # Both parties say 您好 (on a mix Whisper writes the customer's 你好 so too): it does not make
    # the customer's sentence the agent's.
    one_voice = _mono((0.5, "spk0", "您好平和人寿工号七零二七很高兴为您服务请问有什么可以帮您"),
                      (8.0, "spk0", "您好我的保单号是六八三七八四五六"), (14.5, "spk0", "好的我帮您查询一下"),
                      (24.5, "spk0", "感谢您的来电祝您生活愉快再见"))

    labelled = assign_roles(one_voice, diarization=ONE_VOICE)

    assert [t.role for t in labelled.turns] == [Role.AGENT, Role.CUSTOMER, Role.AGENT, Role.AGENT]


def _run_on(start_s: float, *sentences: tuple[str, float]) -> Turn:
    """One mono turn of character words whose times run on over pauses, as Whisper's do: each
    sentence (text, pause after it in seconds) starts where the one before ended, its first word
    stretched over the pause."""
    words, cursor, pause_before_s = [], start_s, 0.0
    for text, pause_s in sentences:
        for position, char in enumerate(text):
            length_s = 0.2 + (pause_before_s if position == 0 else 0.0)
            words.append(Word(start_s=round(cursor, 3), end_s=round(cursor + length_s, 3), text=char))
            cursor += length_s
        pause_before_s = pause_s
    text = "".join(word.text for word in words)
    return Turn(start_s=start_s, end_s=words[-1].end_s, channel=0, speaker="spk0", text=text, words=tuple(words))


@pytest.mark.parametrize("agent_then_customer", [
    (("您好工号一零二四很高兴为您服务请问有什么可以帮您。", 0.0), ("我想问一下你们为什么扣我钱", 0.0)),  # a full stop
    (("您好工号一零二四很高兴为您服务请问有什么可以帮您", 0.7), ("我想问一下你们为什么扣我钱", 0.0)),  # a pause
])
def test_one_voice_is_cut_inside_a_turn_that_runs_both_parties_together(agent_then_customer) -> None:
    # Whisper wrote the agent's greeting and the customer's question as one turn of one voice.
    both = _run_on(0.5, *agent_then_customer)
    one_voice = transcript(both, _run_on(12.0, ("好的请您稍等我为您查询", 0.0)), num_channels=1)

    labelled = assign_roles(one_voice, diarization=ONE_VOICE)

    assert [(t.text, t.role) for t in labelled.turns] == [
        (agent_then_customer[0][0], Role.AGENT), (agent_then_customer[1][0], Role.CUSTOMER),
        ("好的请您稍等我为您查询", Role.AGENT)]
    # The question starts where it was said, after the pause, not where Whisper's word time starts.
    question = labelled.turns[1]
    first = question.words[0]
    assert question.start_s == pytest.approx(max(first.start_s, first.end_s - 0.3))


@pytest.mark.parametrize(("lines", "role"), [
    (["您好工号一零二四很高兴为您服务", "我这边为您查询一下", "好的", "感谢您的来电再见"], Role.AGENT),  # the agent alone
    (["喂你好", "我想问一下我的账单", "你们为什么扣我钱"], Role.UNKNOWN),  # the customer alone
    (["您好工号一零二四很高兴为您服务。我这边为您查询一下。我看一下。", "感谢您的来电。再见。"], Role.AGENT),  # by sentence
])
def test_one_party_alone_is_not_cut_turn_by_turn(lines, role) -> None:
    one_voice = _mono(*((0.5 + 5 * i, "spk0", line) for i, line in enumerate(lines)))

    labelled = assign_roles(one_voice, diarization=ONE_VOICE)

    assert {t.speaker for t in labelled.turns} == {"spk0"} and {t.role for t in labelled.turns} == {role}


def test_one_voice_that_talks_only_like_the_agent_is_the_agent() -> None:
    # An outbound call whose customer spoke only over the agent: sound heard one voice, and its
    # words are the agent's alone.
    one_voice = _mono((0.5, "spk0", "您好，我是百货通快递的客服，现在有一个优惠活动，您有兴趣了解一下吗？"),
                      (9.6, "spk0", "好的，打扰您了，祝您生活愉快，再见。"))

    labelled = assign_roles(one_voice, diarization=ONE_VOICE)

    assert [t.role for t in labelled.turns] == [Role.AGENT, Role.AGENT]
    assert labelled.roles.source == "auto" and labelled.roles.agent_speakers == ("spk0",)
    assert 0.6 <= labelled.roles.confidence < 1.0
    assert any("talks only like the agent" in warning for warning in labelled.warnings)


def test_one_voice_with_customer_talk_it_cannot_set_apart_keeps_unknown_roles() -> None:
    # A customer's 你 inside the one voice, with no customer phrase to cut it out by (Whisper writes
    # the agent's 您 so too): both parties may be in it, and neither is named.
    one_voice = _mono((0.5, "spk0", "您好，我是百货通快递的客服，现在有一个优惠活动，您有兴趣了解一下吗？"),
                      (9.6, "spk0", "你说吧好的打扰您了祝您生活愉快再见"))

    labelled = assign_roles(one_voice, diarization=ONE_VOICE)

    assert {t.role for t in labelled.turns} == {Role.UNKNOWN} and labelled.roles.source == "none"


@pytest.mark.parametrize("customer_says", ["我想问一下", "喂"])
def test_customer_words_run_into_the_agents_sentence_are_cut_out(customer_says) -> None:
    # Talk-over: the customer's words and the agent's goodbye in one sentence, no full stop and
    # too short a pause to end one. The customer phrase sets the customer's piece apart.
    one_voice = transcript(_run_on(0.5, ("您好，我是百货通快递的客服，现在有一个优惠活动，您有兴趣了解一下吗？", 0.0)),
                           _run_on(9.6, (customer_says, 0.2), ("好的打扰您了祝您生活愉快再见", 0.0)), num_channels=1)

    labelled = assign_roles(one_voice, diarization=ONE_VOICE)

    assert [(t.text, t.role) for t in labelled.turns] == [
        (one_voice.turns[0].text, Role.AGENT), (customer_says, Role.CUSTOMER), ("好的打扰您了祝您生活愉快再见", Role.AGENT)]


def test_a_customer_question_and_the_agents_answer_run_together_are_two_parties() -> None:
    # The agent answers before the customer has finished: Whisper writes one sentence whose agent
    # and customer cues cancel out (the whole reads as neither party's more than the other's).
    both = _run_on(8.0, ("您好我的保单号是六八五二六一七二七九想问一下理赔进度", 0.2), ("我帮您查询一下", 0.0))
    one_voice = transcript(_run_on(0.5, ("您好平和人寿工号七零二七很高兴为您服务请问有什么可以帮您", 0.0)), both,
                           _run_on(24.5, ("感谢您的来电祝您生活愉快再见", 0.0)), num_channels=1)

    labelled = assign_roles(one_voice, diarization=ONE_VOICE)

    assert [(t.text, t.role) for t in labelled.turns] == [
        ("您好平和人寿工号七零二七很高兴为您服务请问有什么可以帮您", Role.AGENT),
        ("您好我的保单号是六八五二六一七二七九想问一下理赔进度", Role.CUSTOMER), ("我帮您查询一下", Role.AGENT),
        ("感谢您的来电祝您生活愉快再见", Role.AGENT)]


def test_a_pause_after_a_possessive_does_not_end_the_sentence() -> None:
    # The agent pauses inside 「我的｜工号是…」: 「…我的」 alone would read as a customer's words.
    one_voice = transcript(_run_on(0.5, ("您好这边是长江银行我的", 0.8), ("工号是六九零八很高兴为您服务", 0.0)),
                           _run_on(9.0, ("请问有什么可以帮您", 0.0)), num_channels=1)

    assert len(sentences(one_voice.turns[0])) == 1
    assert split_by_content(one_voice, ONE_VOICE) is None


def test_one_voice_without_diarization_keeps_unknown_roles() -> None:
    # Not diarized at all: nothing says the customer's talk is not in there.
    agent_words = _mono((0.5, "spk0", "您好工号一零二四很高兴为您服务"), (5.0, "spk0", "感谢您的来电祝您生活愉快"))
    assert {t.role for t in assign_roles(agent_words).turns} == {Role.UNKNOWN}


# Two voices by sound, barely apart: the agent's greeting with the customer's question, and the
# rest of the agent's talk. Another split sets the question apart.
BARELY_APART = Diarization(
    segments=(SpeakerSegment(start_s=0.0, end_s=9.0, speaker="spk0", confidence=0.6),
              SpeakerSegment(start_s=9.0, end_s=30.0, speaker="spk1", confidence=0.6)), num_speakers=2,
    method="embedding",
    two_voice_splits=((SpeakerSegment(start_s=0.0, end_s=4.5, speaker="spk0", confidence=0.55),
                       SpeakerSegment(start_s=4.5, end_s=9.0, speaker="spk1", confidence=0.55),
                       SpeakerSegment(start_s=9.0, end_s=30.0, speaker="spk0", confidence=0.55)),),
)


def test_two_voices_barely_apart_are_cut_again_when_they_do_not_talk_as_two_parties() -> None:
    by_sound = _mono((0.5, "spk0", "您好工号一零二四很高兴为您服务"), (5.0, "spk0", "我想问一下你们为什么扣我钱"),
                     (10.0, "spk1", "好的请您稍等我为您查询"), (15.0, "spk1", "感谢您的来电祝您生活愉快"))

    labelled = assign_roles(by_sound, diarization=BARELY_APART)

    assert [(t.speaker, t.role) for t in labelled.turns] == [
        ("spk0", Role.AGENT), ("spk1", Role.CUSTOMER), ("spk0", Role.AGENT), ("spk0", Role.AGENT)]
    assert any("barely tell apart" in warning for warning in labelled.warnings)


def test_two_voices_that_talk_as_agent_and_customer_are_kept_as_sound_found_them() -> None:
    by_sound = _mono((0.5, "spk0", "您好工号一零二四很高兴为您服务"), (10.0, "spk1", "我想问一下你们为什么扣我钱"),
                     (15.0, "spk0", "感谢您的来电祝您生活愉快"))
    sound = BARELY_APART.model_copy(update={"segments": (
        SpeakerSegment(start_s=0.0, end_s=9.0, speaker="spk0"), SpeakerSegment(start_s=9.0, end_s=14.0, speaker="spk1"),
        SpeakerSegment(start_s=14.0, end_s=30.0, speaker="spk0"))})

    labelled = assign_roles(by_sound, diarization=sound)

    assert [(t.speaker, t.role) for t in labelled.turns] == [
        ("spk0", Role.AGENT), ("spk1", Role.CUSTOMER), ("spk0", Role.AGENT)]
    assert not any("what they say" in warning for warning in labelled.warnings)


def _cut(end_s: float, *edges: tuple[float, str]) -> tuple[SpeakerSegment, ...]:
    """Segments from (start_s, speaker) edges, each up to the next edge, the last up to ``end_s``."""
    ends = [start for start, _ in edges[1:]] + [end_s]
    return tuple(SpeakerSegment(start_s=start, end_s=end, speaker=speaker) for (start, speaker), end in zip(edges, ends))


def test_two_voices_that_talk_as_two_parties_take_a_split_that_places_the_agents_words_better() -> None:
    # Sound heard the agent's 「好的请您稍等」 in the customer's voice: the two voices still talk as
    # agent and customer (请您稍等 is a weak cue that customers say too). Of sound's other splits,
    # the first gives it back to the agent but also hands the customer's 「那我的卡呢」 over; the
    # second moves it alone.
    by_sound = _mono((0.5, "spk0", "您好工号一零二四很高兴为您服务"), (5.0, "spk1", "我想问一下我的账单"),
                     (8.0, "spk1", "好的请您稍等"), (10.0, "spk1", "那我的卡呢"), (15.0, "spk0", "感谢您的来电祝您生活愉快"))

    sound = Diarization(segments=_cut(30.0, (0.0, "spk0"), (4.5, "spk1"), (13.0, "spk0")), num_speakers=2, method="embedding",
                        two_voice_splits=(_cut(30.0, (0.0, "spk0"), (4.5, "spk1"), (7.5, "spk0")),
                                          _cut(30.0, (0.0, "spk0"), (4.5, "spk1"), (7.5, "spk0"), (9.8, "spk1"), (13.0, "spk0"))))
    assert speaks_as_two_parties(*[voice_evidence("".join(t.text for t in by_sound.turns if t.speaker == speaker))
                                   for speaker in ("spk0", "spk1")])

    labelled = assign_roles(by_sound, diarization=sound)

    assert [(t.text, t.role) for t in labelled.turns] == [
        ("您好工号一零二四很高兴为您服务", Role.AGENT), ("我想问一下我的账单", Role.CUSTOMER), ("好的请您稍等", Role.AGENT),
        ("那我的卡呢", Role.CUSTOMER), ("感谢您的来电祝您生活愉快", Role.AGENT)]
    assert split_by_content(by_sound, sound).segments == sound.two_voice_splits[1]


def test_a_sentence_sound_cut_in_two_is_one_turn_again_when_the_split_taken_joins_it() -> None:
    # Sound's split cut the agent's sentence inside 工号 and gave 「号六零零一请问是王先生吗」 to the
    # customer's voice; the split taken gives it back, and the sentence is one turn, 工号 whole.
    sentence = turn(2.0, Role.UNKNOWN, "你好我是安心保险的回访专员工号六零零一请问是王先生吗", channel=0)
    where_hao_starts = sentence.words[14].start_s
    sound = Diarization(segments=_cut(20.0, (0.0, "spk0"), (1.9, "spk1"), (where_hao_starts, "spk0"), (10.5, "spk1")),
                        num_speakers=2, method="embedding",
                        two_voice_splits=(_cut(20.0, (0.0, "spk0"), (1.9, "spk1"), (8.5, "spk0"), (10.5, "spk1")),))
    by_sound = _mono((0.2, "spk0", "喂你好"), (9.0, "spk0", "是我"), (11.0, "spk1", "感谢您的来电祝您生活愉快"))
    by_sound = by_sound.model_copy(update={"turns": tuple(sorted(
        by_sound.turns + tuple(split_by_speaker(sentence, sound)), key=lambda t: t.start_s))})
    assert [t.text for t in by_sound.turns][1:3] == ["你好我是安心保险的回访专员工", "号六零零一请问是王先生吗"]

    labelled = assign_roles(by_sound, diarization=sound)

    assert [(t.text, t.role) for t in labelled.turns] == [
        ("喂你好", Role.CUSTOMER), ("你好我是安心保险的回访专员工号六零零一请问是王先生吗", Role.AGENT),
        ("是我", Role.CUSTOMER), ("感谢您的来电祝您生活愉快", Role.AGENT)]
    assert labelled.turns[1].start_s == 2.0 and labelled.turns[1].end_s == sentence.end_s


def test_a_recut_that_loses_customer_talk_is_not_taken() -> None:
    # The customer's voice holds a few of the agent's words (您好, 核实), so the two voices fail the
    # content check; the other split passes it but leaves the customer only the first question.
    by_sound = _mono((0.5, "spk0", "您好工号一零二四很高兴为您服务"), (5.0, "spk1", "您好我想问一下我的账单"),
                     (10.0, "spk1", "后四位是六三六五核实成功我的卡怎么了"), (15.0, "spk0", "感谢您的来电祝您生活愉快再见"))
    sound = Diarization(
        segments=(SpeakerSegment(start_s=0.0, end_s=5.0, speaker="spk0"), SpeakerSegment(start_s=5.0, end_s=15.0, speaker="spk1"),
                  SpeakerSegment(start_s=15.0, end_s=30.0, speaker="spk0")), num_speakers=2, method="embedding",
        two_voice_splits=((SpeakerSegment(start_s=0.0, end_s=5.0, speaker="spk0"),
                           SpeakerSegment(start_s=5.0, end_s=10.0, speaker="spk1"),
                           SpeakerSegment(start_s=10.0, end_s=30.0, speaker="spk0")),))

    labelled = assign_roles(by_sound, diarization=sound)

    assert [(t.speaker, t.role) for t in labelled.turns] == [
        ("spk0", Role.AGENT), ("spk1", Role.CUSTOMER), ("spk1", Role.CUSTOMER), ("spk0", Role.AGENT)]


def test_two_voices_that_both_talk_like_the_agent_are_cut_sentence_by_sentence() -> None:
    # Sound heard the agent as two voices (greeting and goodbye in one, the rest in the other)
    # and the customer's question inside the second; no split it offers shows two parties.
    by_sound = _mono((0.4, "spk1", "您好极速光纤工号七六一零很高兴为您服务"), (5.6, "spk0", "请问有什么可以帮您。"),
                     (7.8, "spk0", "您好我的手机号是一三五四五九三零二六九我想查一下上个月的话费。"),
                     (15.0, "spk0", "好的请您提供一下机主身份证后四位"), (21.6, "spk0", "核实成功您上个月的话费是三十二元"),
                     (30.6, "spk1", "感谢您的来电祝您生活愉快再见"))
    sound = Diarization(
        segments=(SpeakerSegment(start_s=0.0, end_s=5.5, speaker="spk1"), SpeakerSegment(start_s=5.5, end_s=30.5, speaker="spk0"),
                  SpeakerSegment(start_s=30.5, end_s=36.0, speaker="spk1")), num_speakers=2, method="embedding")

    labelled = assign_roles(by_sound, diarization=sound)

    # The question is the customer's, the rest the agent's (not two agents, the question theirs).
    assert [t.role for t in labelled.turns] == [Role.AGENT, Role.AGENT, Role.CUSTOMER, Role.AGENT, Role.AGENT, Role.AGENT]
    assert labelled.roles.agent_speakers == (labelled.turns[0].speaker,)
    assert any("sentence by sentence" in warning for warning in labelled.warnings)


def test_sentences_sound_gave_the_wrong_voice_move_across_and_cue_less_ones_keep_their_voice() -> None:
    # Voices too alike: sound heard the customer's 「我的保单号是…」 and 「好的麻烦你了」 in the agent's
    # voice, so its other voice says nothing of a customer's and the two fail the content check.
    # Those sentences move across; the customer's cue-less 「想问一下理赔进度」 and 「明白了谢谢您」
    # stay in the voice sound heard them in (a sentence-by-sentence cut from scratch would give
    # them to the agent).
    said = [(0.5, "spk0", "您好安心保险工号七七四五很高兴为您服务请问有什么可以帮您"), (8.0, "spk1", "您好"),
            (9.0, "spk0", "我的保单号是六二四七四二五七"), (12.5, "spk1", "想问一下理赔进度"),
            (15.0, "spk0", "好的我帮您查询一下"), (18.5, "spk0", "好的麻烦你了"), (21.0, "spk0", "您的理赔金额是七百四十一元"),
            (26.0, "spk1", "明白了谢谢您"), (28.5, "spk0", "请问还有其他可以帮您的吗感谢您的来电再见")]
    by_sound = _mono(*said)
    sound = Diarization(segments=tuple(SpeakerSegment(start_s=t.start_s, end_s=t.end_s, speaker=t.speaker)
                                       for t in by_sound.turns), num_speakers=2, method="embedding")
    voices = [voice_evidence("".join(t.text for t in by_sound.turns if t.speaker == s)) for s in ("spk0", "spk1")]
    assert not speaks_as_two_parties(*voices)

    labelled = assign_roles(by_sound, diarization=sound)

    customer = [Role.CUSTOMER]
    assert [t.role for t in labelled.turns] == [Role.AGENT, *customer * 3, Role.AGENT, *customer, Role.AGENT,
                                                *customer, Role.AGENT]
    assert [t.text for t in labelled.turns] == [text for _, _, text in said]
    assert any("set apart wrongly" in warning and "sentence by sentence" in warning for warning in labelled.warnings)
    split = split_by_content(by_sound, sound)
    assert split is not None and split.by_sentence
    # The segments follow the turns: the customer's policy number is the customer's.
    assert {s.speaker for s in split.segments if s.start_s < 12.0 and s.end_s > 9.0} == {"spk1"}


def test_a_polite_customers_thanks_do_not_make_sounds_right_split_look_wrong() -> None:
    # The customer says 麻烦您 and 谢谢您, as agents do, and Whisper wrote the agent's 您的账户 as
    # 你的账户. Sound's two voices are the agent and the customer all the same: every sentence
    # stays in the voice sound heard it in (the agent's 你 does not move to the customer).
    said = [(0.5, "spk0", "您好请讲"), (2.9, "spk1", "你好麻烦您帮我查一下我的订单"),
            (6.5, "spk0", "好的麻烦您提供一下手机号码我这边帮您查询"), (11.2, "spk1", "一五一一五七四九六八"),
            (14.5, "spk0", "看到了多扣的钱三个工作日内会退回你的账户"), (19.8, "spk1", "好的谢谢您"),
            (21.9, "spk0", "请问还有其他问题吗没有的话就先这样再见")]
    by_sound = _mono(*said)
    sound = Diarization(segments=tuple(SpeakerSegment(start_s=t.start_s, end_s=t.end_s, speaker=t.speaker)
                                       for t in by_sound.turns), num_speakers=2, method="embedding")
    voices = [voice_evidence("".join(t.text for t in by_sound.turns if t.speaker == s)) for s in ("spk0", "spk1")]
    assert speaks_as_two_parties(*voices)

    labelled = assign_roles(by_sound, diarization=sound)

    assert [t.role for t in labelled.turns] == [Role.AGENT, Role.CUSTOMER] * 3 + [Role.AGENT]
    assert [t.text for t in labelled.turns] == [text for _, _, text in said]
    assert split_by_content(by_sound, sound) is None


def test_speaks_as_two_parties_needs_an_agent_and_a_customer() -> None:
    agent = VoiceEvidence(agent_cues=9.0, customer_cues=0.0, polite_you=4, first_person=0)
    customer = VoiceEvidence(agent_cues=0.0, customer_cues=2.0, polite_you=0, first_person=3)
    quiet = VoiceEvidence(agent_cues=0.0, customer_cues=0.0, polite_you=0, first_person=0)
    assert speaks_as_two_parties(agent, customer) and speaks_as_two_parties(customer, agent)
    assert not speaks_as_two_parties(agent, agent)
    assert not speaks_as_two_parties(customer, customer)
    assert not speaks_as_two_parties(agent, quiet)
    assert not speaks_as_two_parties(agent, customer._replace(agent_cues=3.0))  # the customer's voice says 工号
    # An agent without a 工号 is known by 您; a customer who says little, by 你.
    polite_agent = VoiceEvidence(agent_cues=1.5, customer_cues=0.0, polite_you=6, first_person=1)
    terse_customer = VoiceEvidence(agent_cues=0.0, customer_cues=0.0, polite_you=0, first_person=0, informal_you=2)
    assert speaks_as_two_parties(polite_agent, terse_customer)
    assert not speaks_as_two_parties(polite_agent, terse_customer._replace(polite_you=2))
    # A piece of the agent's own talk (「您的心情我理解，我…」) is not a customer: 我 counts half.
    agent_piece = VoiceEvidence(agent_cues=0.0, customer_cues=0.0, polite_you=1, first_person=2)
    assert not speaks_as_two_parties(agent, agent_piece)
    assert speaks_as_two_parties(agent, agent_piece._replace(first_person=3))


def test_voice_evidence_counts_phrases_and_forms_of_address() -> None:
    evidence = voice_evidence("您好，我是长江银行客户服务中心的，不打扰您了")
    # 您好 is a weak agent phrase, but no 您 of address: customers say it too.
    assert evidence.agent_cues >= 3.0 and evidence.polite_you == 1 and evidence.customer_cues == 0
    customer = voice_evidence("喂，你好，你是哪里？你说吧，我的卡怎么了")
    assert customer.informal_you == 2 and customer.first_person == 1 and customer.customer_cues >= 2.0
    assert voice_evidence("我们这边给您登记，我马上处理").first_person == 1  # 我们 is the company speaking


def test_one_voice_on_mono_keeps_unknown_roles() -> None:
    labelled = assign_roles(_mono((0.5, "spk0", "您好"), (3.0, "spk0", "请讲")))
    assert {t.role for t in labelled.turns} == {Role.UNKNOWN} and labelled.roles.source == "none"


def _stereo_audio(left: np.ndarray, right: np.ndarray) -> DecodedAudio:
    return DecodedAudio(np.stack([left, right]).astype(np.float32))


def test_echo_of_the_other_channel_is_not_a_turn() -> None:
    rng = np.random.default_rng(1)
    speech = (rng.normal(0, 0.2, 16_000 * 3) * np.sin(np.linspace(0, 30, 16_000 * 3)) ** 2).astype(np.float32)
    left = np.concatenate([speech, np.zeros(16_000 * 3, dtype=np.float32)])
    delay = 160  # 10 ms
    echo = np.concatenate([np.zeros(delay), 0.05 * left[:-delay]]) + rng.normal(0, 1e-4, left.size)
    turns = transcript(turn(0.2, Role.UNKNOWN, "您好请问有什么可以帮您", channel=0),
                       turn(0.25, Role.UNKNOWN, "您好请问有什么可以帮您", channel=1))

    cleaned = remove_echo(turns, _stereo_audio(left, echo), DiarizationSettings())

    assert [t.channel for t in cleaned.turns] == [0]
    assert any("echo" in warning for warning in cleaned.warnings)
    assert any("channel 1" in warning and "one party" in warning for warning in cleaned.warnings)


def test_both_parties_talking_at_once_is_kept() -> None:
    rng = np.random.default_rng(2)
    left = rng.normal(0, 0.2, 16_000 * 3).astype(np.float32)
    right = rng.normal(0, 0.05, 16_000 * 3).astype(np.float32)  # quieter, but its own speech
    turns = transcript(turn(0.2, Role.UNKNOWN, "您好请问", channel=0), turn(0.5, Role.UNKNOWN, "我要投诉", channel=1))

    assert remove_echo(turns, _stereo_audio(left, right), DiarizationSettings()) == turns


class TinyPipeline:
    """A locally built pyannote-style pipeline: energy over a threshold; the louder half is one speaker."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def __call__(self, file: dict, **kwargs: int) -> Annotation:
        self.calls.append(kwargs)
        waveform = file["waveform"].numpy()[0]
        rate = file["sample_rate"]
        annotation = Annotation()
        frames = waveform[: len(waveform) // rate * rate].reshape(-1, rate)  # 1 s frames
        levels = np.sqrt(np.mean(frames**2, axis=1))
        for second, level in enumerate(levels):
            if level > 0.01:
                annotation[Segment(second, second + 1)] = "LOUD" if level > np.median(levels) else "SOFT"
        return annotation.support()


def test_pyannote_adapter_turns_a_pipeline_annotation_into_a_diarization() -> None:
    pipeline = TinyPipeline()
    samples = np.concatenate([np.full(16_000 * 2, 0.02), np.full(16_000 * 2, 0.3), np.zeros(16_000)]).astype(np.float32)

    result = PyannoteDiarizer(pipeline, DiarizationSettings(max_speakers=3)).diarize(samples)

    assert [(s.speaker, s.start_s, s.end_s) for s in result.segments] == [("spk0", 0.0, 2.0), ("spk1", 2.0, 4.0)]
    assert result.method == "pyannote" and result.num_speakers == 2
    assert pipeline.calls == [{"min_speakers": 1, "max_speakers": 3}]


def test_pyannote_pipeline_paths_are_checked(tmp_path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        PyannoteDiarizer.from_path(tmp_path / "missing", DiarizationSettings())
    (tmp_path / "config.yaml").write_text("pipeline: {}\n")
    try:
        import pyannote.audio  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigurationError, match="pip install pyannote.audio"):
            PyannoteDiarizer.from_path(tmp_path / "config.yaml", DiarizationSettings())


def test_diarizer_choice_follows_the_settings() -> None:
    assert get_diarizer(Settings(diarization=DiarizationSettings(method="none"))) is None
    assert isinstance(get_diarizer(Settings()), EmbeddingDiarizer)
    with pytest.raises(ConfigurationError, match="pyannote_pipeline"):
        get_diarizer(Settings(diarization=DiarizationSettings(method="pyannote")))


def test_a_diarized_mono_scorecard_names_the_agent_speaker() -> None:
    from qa_pipeline.cli import format_scorecard
    from qa_pipeline.rubric import load_rubric, score_transcript

    from conftest import PROJECT_ROOT

    labelled = assign_roles(_mono((0.5, "spk0", "您好客服中心工号一零二四很高兴为您服务"), (6.0, "spk1", "我想查一下话费")))
    card = score_transcript(labelled, load_rubric(PROJECT_ROOT / "rubrics" / "default.yaml"), audio="mono.wav")

    text = format_scorecard(card, show_turns=True)
    assert "单声道 2 人，坐席=spk0" in text and "坐席(spk0) 您好" in text and "客户(spk1) 我想" in text
