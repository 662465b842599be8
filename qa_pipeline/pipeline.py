"""The whole inspection of one call, and of many: the functions that flows and the CLI call.

``inspect_call``: audio file → ``Recording`` → (mono: diarization) → ``Transcript`` (turns, stereo echo
removed) → roles → ``Scorecard``.
``inspect_calls``: the same over many calls; a broken recording becomes a failed ``Outcome``
naming the file and the problem, and the rest go on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qa_pipeline.asr import Transcriber
from qa_pipeline.audio import read_recording
from qa_pipeline.diarization import get_diarizer, remove_echo
from qa_pipeline.errors import QAPipelineError, TransientError
from qa_pipeline.metadata import CallSource, merge_metadata, metadata_from_filename, read_manifest
from qa_pipeline.roles import assign_roles
from qa_pipeline.rubric import Rubric, score_transcript
from qa_pipeline.settings import Settings
from qa_pipeline.transcribe import transcribe_recording
from qa_pipeline.types import Scorecard

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = frozenset({".wav", ".mp3", ".flac", ".ogg", ".opus", ".m4a", ".aac", ".amr", ".wma"})


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one call in a batch."""

    source: CallSource
    scorecard: Scorecard | None = None
    error: str | None = None
    is_transient: bool = False  # a retry may succeed
    elapsed_s: float = 0.0
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.scorecard is not None


def inspect_call(
    source: CallSource,
    *,
    settings: Settings,
    rubric: Rubric,
    transcriber: Transcriber,
    timings_s: dict[str, float] | None = None,
    audio_sha256: str | None = None,
) -> Scorecard:
    """Inspect one call.

    Args:
        source: the file, its call id and metadata.
        settings: audio limits, ASR options (turn splitting, guards) and the agent-channel setting.
        rubric: the QA standard to score against.
        transcriber: a loaded ASR adapter (load it once per process: ``asr.get_transcriber``).
        timings_s: if given, filled with seconds spent per stage (decode, diarize, asr, score).
        audio_sha256: the file's hash, when the caller has just computed it.

    Raises:
        QAPipelineError: e.g. ``AudioError`` naming the file and the problem.
    """
    timings = timings_s if timings_s is not None else {}
    started = time.perf_counter()
    recording, audio = read_recording(
        source.path, settings=settings.audio, call_id=source.call_id, metadata=source.metadata, sha256=audio_sha256
    )
    decoded = time.perf_counter()
    diarizer = get_diarizer(settings) if audio.num_channels == 1 else None
    diarization = diarizer.diarize(audio.channel(0)) if diarizer is not None else None
    diarized = time.perf_counter()
    transcript = transcribe_recording(recording, audio, transcriber, settings.asr, diarization=diarization)
    transcript = remove_echo(transcript, audio, settings.diarization)
    transcribed = time.perf_counter()
    transcript = assign_roles(transcript, agent_channel=settings.agent_channel, metadata=recording.metadata,
                              diarization=diarization)
    scorecard = score_transcript(transcript, rubric, audio=str(recording.path), metadata=recording.metadata)
    timings.update(
        decode=decoded - started, diarize=diarized - decoded, asr=transcribed - diarized,
        score=time.perf_counter() - transcribed,
    )
    return scorecard


def inspect_calls(
    sources: Iterable[CallSource],
    *,
    settings: Settings,
    rubric: Rubric,
    load_transcriber: Callable[[], Transcriber],
) -> Iterator[Outcome]:
    """Inspect calls one after another, yielding an ``Outcome`` per call; never stops on a bad one.

    ``load_transcriber`` is called once, before the first call. Its errors (a wrong model path, a
    model that cannot load) concern the configuration, not a recording: they stop the batch.
    """
    transcriber: Transcriber | None = None
    for source in sources:
        transcriber = transcriber or load_transcriber()
        started = time.perf_counter()
        timings: dict[str, float] = {}
        try:
            scorecard = inspect_call(
                source, settings=settings, rubric=rubric, transcriber=transcriber, timings_s=timings
            )
        except QAPipelineError as exc:
            log.warning("call %s failed: %s", source.call_id, exc)
            yield Outcome(
                source,
                error=str(exc),
                is_transient=isinstance(exc, TransientError),
                elapsed_s=time.perf_counter() - started,
            )
            continue
        yield Outcome(source, scorecard=scorecard, elapsed_s=time.perf_counter() - started, timings_s=timings)


def discover_calls(paths: Iterable[Path], *, settings: Settings) -> list[CallSource]:
    """Expand files and folders into call sources, with metadata from file names and the manifest.

    Folders are searched recursively for audio files. With a manifest and no paths, the manifest's
    calls are returned. A path that does not exist is still returned, so it fails with a clear
    error in its own outcome instead of vanishing.
    """
    manifest = {}
    if settings.metadata.manifest is not None:
        manifest = {source.path.resolve(): source for source in read_manifest(settings.metadata.manifest)}
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES))
        else:
            files.append(path)
    if not files and manifest:
        files = [source.path for source in manifest.values()]
    sources = []
    for file in files:
        from_name = metadata_from_filename(file, settings.metadata.filename_pattern)
        listed = manifest.get(file.resolve())
        if listed is None:
            sources.append(CallSource(path=file, call_id=file.stem, metadata=from_name))
        else:
            sources.append(CallSource(path=file, call_id=listed.call_id,
                                      metadata=merge_metadata(from_name, listed.metadata)))
    return sources
