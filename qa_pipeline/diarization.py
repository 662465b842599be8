"""Diarization: who spoke when on a mono recording, and echo removal on stereo.

``EmbeddingDiarizer`` (the default, offline): Silero VAD (bundled with faster-whisper) finds the
speech; resemblyzer's speaker encoder (weights inside its PyPI wheel) embeds overlapping windows
of it every ``hop_s``; k-means on those embeddings groups the windows into voices (1 to
``max_speakers``, see ``cluster_embeddings``); each speech region is cut where its windows change
voice, and the short pauses inside the resulting segments are left out (``leave_out_pauses``).
When it keeps one voice, or two it can barely tell apart (closer than
``content_check_distance``), other splits into two come along (``two_voice_splits``) for role
detection to take if what the two sides say shows an agent and a customer.
``PyannoteDiarizer`` runs a local pyannote.audio pipeline instead, with the same output.

``remove_echo`` handles stereo: the other party leaking faintly into a channel (line echo,
crosstalk) must not become a turn.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa_pipeline.audio import SAMPLE_RATE_HZ, DecodedAudio, seconds_to_samples, speech_regions
from qa_pipeline.errors import ConfigurationError, ModelLoadError
from qa_pipeline.settings import DiarizationSettings, Settings
from qa_pipeline.transcribe import silent_channel_warnings
from qa_pipeline.types import Diarization, SpeakerSegment, Transcript, round_s

log = logging.getLogger(__name__)

MEL_HOP_S = 0.01  # resemblyzer's mel frames: 10 ms
MIN_WINDOW_S = 0.4  # shorter speech regions are too short to embed on their own
MAX_WINDOWS = 3000  # clustering is quadratic: long recordings get a longer hop
MIN_CANDIDATE_VOICE_S = 1.0  # each voice of a split offered to role detection speaks this long
MAX_CANDIDATES = 4  # splits offered to role detection, the most distinct first
# Speech regions shorter than this embed too poorly to place a voice by: the second k = 2 split
# (``_two_voices``) is fitted without them (they are still labelled).
MIN_FIT_REGION_S = 0.8


class Diarizer(Protocol):
    method: str

    def diarize(self, samples: np.ndarray) -> Diarization:
        """Speaker segments of 16 kHz mono samples."""
        ...


class EmbeddingDiarizer:
    """Silero VAD → resemblyzer window embeddings → clustering → speaker segments."""

    method = "embedding"

    def __init__(self, settings: DiarizationSettings) -> None:
        try:
            from resemblyzer import VoiceEncoder  # noqa: PLC0415
            from resemblyzer.audio import wav_to_mel_spectrogram  # noqa: PLC0415
        except ImportError as exc:
            raise ModelLoadError(
                "the speaker encoder (resemblyzer) is not installed; run `make setup`, or "
                "pip install webrtcvad-wheels && pip install --no-deps resemblyzer"
            ) from exc
        self.settings = settings
        self._encoder = VoiceEncoder("cpu", verbose=False)
        self._mel = wav_to_mel_spectrogram

    def diarize(self, samples: np.ndarray) -> Diarization:
        regions = speech_regions(samples)
        if not regions:
            return Diarization(segments=(), num_speakers=0, method=self.method)
        windows, embeddings = self._embed(samples, regions)
        labels, two_voice_labels = _cluster(embeddings, windows, self.settings)
        pauses = _pauses(speech_regions(samples, min_silence_s=self.settings.min_pause_s))
        diarization = _segments_from_windows(regions, windows, labels, embeddings, self.method)
        diarization = diarization.model_copy(update={"segments": leave_out_pauses(diarization.segments, pauses)})
        splits = tuple(leave_out_pauses(_segments_from_windows(regions, windows, candidate, embeddings,
                                                               self.method).segments, pauses)
                       for candidate in two_voice_labels)
        return diarization.model_copy(update={"two_voice_splits": splits}) if splits else diarization

    def _embed(self, samples: np.ndarray, regions: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
        """(start_s, end_s, region index) of each window, and its L2-normed embedding."""
        import torch  # noqa: PLC0415

        speech = np.concatenate([samples[seconds_to_samples(a): seconds_to_samples(b)] for a, b in regions])
        rms = float(np.sqrt(np.mean(speech**2))) or 1e-9
        mel = self._mel((samples * (10 ** (-30 / 20) / rms)).astype(np.float32))  # -30 dBFS speech
        total_s = sum(b - a for a, b in regions)
        hop_s = max(self.settings.hop_s, total_s / MAX_WINDOWS)
        window_s = self.settings.window_s
        windows: list[tuple[float, float, int]] = []
        for index, (start_s, end_s) in enumerate(regions):
            length_s = min(window_s, max(end_s - start_s, MIN_WINDOW_S))
            position = start_s
            while True:
                windows.append((position, position + length_s, index))
                if position + length_s >= end_s - 1e-6:
                    break
                position = min(position + hop_s, end_s - length_s)
        by_length: dict[int, list[int]] = {}
        frames = []
        for i, (start_s, end_s, _) in enumerate(windows):
            first = int(round(start_s / MEL_HOP_S))
            count = max(int(round((end_s - start_s) / MEL_HOP_S)), 1)
            frames.append((first, count))
            by_length.setdefault(count, []).append(i)
        embeddings = np.zeros((len(windows), 256), dtype=np.float32)
        padded = np.pad(mel, ((0, int(window_s / MEL_HOP_S) + 1), (0, 0)))
        with torch.inference_mode():
            for count, indices in by_length.items():
                for batch_start in range(0, len(indices), 256):
                    batch = indices[batch_start: batch_start + 256]
                    mels = np.stack([padded[frames[i][0]: frames[i][0] + count] for i in batch])
                    embeddings[batch] = self._encoder(torch.from_numpy(mels)).numpy()
        return np.array(windows, dtype=np.float64), embeddings


class PyannoteDiarizer:
    """A pyannote.audio pipeline from a local path (no hub): same interface, same output.

    ``pipeline`` is anything pyannote's ``Pipeline`` is: called with
    ``{"waveform": (channels, samples) tensor, "sample_rate": 16000}``, it returns a
    ``pyannote.core.Annotation`` (or an object with ``.speaker_diarization`` holding one, as
    pyannote.audio 4 pipelines do).
    """

    method = "pyannote"

    def __init__(self, pipeline: Any, settings: DiarizationSettings) -> None:
        self.pipeline = pipeline
        self.settings = settings

    @classmethod
    def from_path(cls, path: Path, settings: DiarizationSettings) -> PyannoteDiarizer:
        if not Path(path).exists():
            raise ConfigurationError(f"{path}: pyannote pipeline not found (diarization.pyannote_pipeline)")
        try:
            from pyannote.audio import Pipeline  # noqa: PLC0415
        except ImportError as exc:
            raise ConfigurationError(
                f"diarization.pyannote_pipeline is set ({path}) but pyannote.audio is not installed: "
                "pip install pyannote.audio (see README, 'pyannote'), or set diarization.method = \"embedding\""
            ) from exc
        try:
            pipeline = Pipeline.from_pretrained(str(path))
        except Exception as exc:  # pyannote raises many kinds; all mean the same to the user
            raise ModelLoadError(f"{path}: the pyannote pipeline could not be loaded: {exc}") from exc
        if pipeline is None:
            raise ModelLoadError(f"{path}: not a pyannote pipeline (Pipeline.from_pretrained returned None)")
        return cls(pipeline, settings)

    def diarize(self, samples: np.ndarray) -> Diarization:
        import torch  # noqa: PLC0415

        kwargs = {"min_speakers": self.settings.min_speakers, "max_speakers": self.settings.max_speakers}
        output = self.pipeline({"waveform": torch.from_numpy(samples[None, :].astype(np.float32)),
                                "sample_rate": SAMPLE_RATE_HZ}, **kwargs)
        annotation = getattr(output, "speaker_diarization", output)
        return diarization_from_annotation(annotation, self.method)


def diarization_from_annotation(annotation: Any, method: str) -> Diarization:
    """A ``pyannote.core.Annotation`` as a ``Diarization``, speakers renamed spk0, spk1… by first turn."""
    tracks = sorted(((segment.start, segment.end, str(label))
                     for segment, _, label in annotation.itertracks(yield_label=True)))
    names: dict[str, str] = {}
    segments = []
    for start_s, end_s, label in tracks:
        name = names.setdefault(label, f"spk{len(names)}")
        segments.append(SpeakerSegment(start_s=round_s(max(start_s, 0)), end_s=round_s(max(end_s, start_s, 0)),
                                       speaker=name))
    return Diarization(segments=tuple(segments), num_speakers=len(names), method=method)


def cluster_embeddings(embeddings: np.ndarray, windows: np.ndarray, settings: DiarizationSettings) -> np.ndarray:
    """A voice label per window.

    Window embeddings are first averaged with their neighbours in the same speech region (a
    region rarely changes voice, and one window alone is noisy). Then spherical k-means with
    k = 2, 3, … ``max_speakers``: k voices are kept while every voice has at least
    ``min_speaker_s`` of speech and every two voices are at least ``split_distance`` apart
    (cosine distance of their centroids; ``extra_voice_distance`` and ``min_extra_speaker_s``
    from the third voice on); otherwise the last k that passed stands (1 if none). One voice
    split in two gives either a sliver of speech or two close centroids; a third voice must stand
    out more, because k-means readily splits the talkative party of a two-party call, or sets
    short replies of both parties apart (too short to embed well). For the same reason, k = 2
    is fitted a second way, by speech region rather than by window, and that split is taken
    where it sets the voices further apart (``_two_voices``).
    """
    return _cluster(embeddings, windows, settings)[0]


def _cluster(embeddings: np.ndarray, windows: np.ndarray,
             settings: DiarizationSettings) -> tuple[np.ndarray, list[np.ndarray]]:
    """``cluster_embeddings``' labels, and, when they hold one voice, or two barely apart
    (``content_check_distance``) or one of them heard under ``min_speaker_s``, other two-voice
    labels for what is said to decide (``_two_voice_candidates``)."""
    from sklearn.cluster import KMeans  # noqa: PLC0415

    smoothed = _smooth_within_regions(embeddings, windows[:, 2])
    speech_s = _speech_per_window(windows)
    labels = np.zeros(len(smoothed), dtype=int)
    two_voices = labels
    other_two = None
    for k in range(2, min(settings.max_speakers, len(smoothed)) + 1):
        if k == 2:
            candidate, other_two, apart = _two_voices(smoothed, windows, speech_s, settings)
            two_voices = candidate
        else:
            candidate = KMeans(n_clusters=k, n_init=5, random_state=0).fit_predict(smoothed)
            apart = _voices_apart(smoothed, candidate, k, speech_s, settings.min_extra_speaker_s,
                                  settings.extra_voice_distance)
        if not apart:
            if k <= settings.min_speakers:  # told how many there are at least: take them
                labels = candidate
                continue
            break
        labels = candidate
    voices = sorted(set(labels))
    if settings.max_speakers < 2 or len(smoothed) < 3 or len(voices) > 2:
        return labels, []
    if len(voices) == 2 and _voices_apart(smoothed, labels, 2, speech_s, settings.min_speaker_s,
                                          settings.content_check_distance):
        return labels, []  # two voices clearly apart, each heard at length: what they say is not checked
    return labels, _two_voice_candidates(smoothed, speech_s, two_voices, other_two, besides=labels)


def _two_voices(smoothed: np.ndarray, windows: np.ndarray, speech_s: np.ndarray,
                settings: DiarizationSettings) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """The two voices k = 2 finds, the other split it tried (None if it had just one), and
    whether those two voices are apart enough to be two parties.

    Two k-means splits are fitted:
    - over every window. A long stretch of one party has many windows, so on a call where one
      party does most of the talking, this split often halves that party and leaves the other,
      who only answers briefly, inside one of the halves;
    - over the windows of speech regions at least ``MIN_FIT_REGION_S`` long, each region weighing
      the square root of its length (shared among its windows), so that every answer counts, not
      only every second. Regions too short to embed well are left out of the fit (together they
      would form a voice of their own), and all windows are then labelled by it.

    The first decides whether there are two voices: each with ``min_speaker_s`` of speech,
    ``split_distance`` apart (where it finds one, the second is not used at all). Only then is the
    second taken instead, where its voices are further apart, each with ``min_speaker_s`` of
    speech, or at least ``MIN_CANDIDATE_VOICE_S`` where they are clearly apart
    (``content_check_distance``): a party who only says 「喂」「嗯」「好的」. Such a quiet voice is
    heard too briefly to be sure of, so what the two say is still checked (``_cluster``).
    Otherwise the second is one more split for role detection to try.
    """
    from sklearn.cluster import KMeans  # noqa: PLC0415

    every_window = KMeans(n_clusters=2, n_init=5, random_state=0).fit_predict(smoothed)
    if not _voices_apart(smoothed, every_window, 2, speech_s, settings.min_speaker_s, settings.split_distance):
        return every_window, None, False  # one voice: the second fit has no say
    region_s = _region_length_per_window(windows)
    weights = speech_s / np.sqrt(region_s)  # sqrt(region length) shared among its windows
    fitted = region_s >= MIN_FIT_REGION_S
    if fitted.sum() < 2:
        return every_window, None, True
    by_region = KMeans(n_clusters=2, n_init=5, random_state=0).fit(smoothed[fitted], sample_weight=weights[fitted])
    per_region = by_region.predict(smoothed)
    if len(set(per_region)) < 2 or _same_partition(per_region, every_window):
        return every_window, None, True
    distance = _centroid_distance(smoothed, per_region, 0, 1)
    quiet_s = MIN_CANDIDATE_VOICE_S if distance >= settings.content_check_distance else settings.min_speaker_s
    if (distance > _centroid_distance(smoothed, every_window, 0, 1)
            and _voices_apart(smoothed, per_region, 2, speech_s, quiet_s, settings.split_distance)):
        return per_region, every_window, True
    return every_window, per_region, True


def _voices_apart(smoothed: np.ndarray, labels: np.ndarray, k: int, speech_s: np.ndarray,
                  min_voice_s: float, min_distance: float) -> bool:
    """Whether ``labels`` hold ``k`` voices, each with ``min_voice_s`` of speech, every two at
    least ``min_distance`` apart (cosine distance of their centroids)."""
    voices = sorted(set(labels))
    return (len(voices) == k and min(speech_s[labels == v].sum() for v in voices) >= min_voice_s
            and min(_centroid_distance(smoothed, labels, a, b) for a in voices for b in voices if a < b) >= min_distance)


def _two_voice_candidates(smoothed: np.ndarray, speech_s: np.ndarray, two: np.ndarray,
                          other_two: np.ndarray | None = None,
                          besides: np.ndarray | None = None) -> list[np.ndarray]:
    """Splits into two of the voice (or two close voices, ``besides``: those are not offered
    again) that clustering kept, for role detection to take or leave by what the two sides say,
    the most distinct two voices first (cosine distance of their centroids).

    The splits: k-means' two voices (``two``, from ``_cluster``, and ``other_two``, the other
    split ``_two_voices`` tried), and each of its three and of
    its four voices against the rest (the first three of these are its three voices with two
    merged). k = 2 on a call where one party says little tends to halve the talkative one; the
    quiet party is then one of the three or four voices. Each voice of a split has at least
    ``MIN_CANDIDATE_VOICE_S`` of speech; at most ``MAX_CANDIDATES`` are offered.
    """
    from sklearn.cluster import KMeans  # noqa: PLC0415

    splits = [two] if other_two is None else [two, other_two]
    for k in (3, 4):
        if len(smoothed) <= k:
            break
        labels = KMeans(n_clusters=k, n_init=5, random_state=0).fit_predict(smoothed)
        splits.extend((labels == voice).astype(int) for voice in sorted(set(labels)))
    candidates: list[tuple[float, np.ndarray]] = []
    for labels in splits:
        voices = sorted(set(labels))
        if (len(voices) == 2 and min(speech_s[labels == v].sum() for v in voices) >= MIN_CANDIDATE_VOICE_S
                and not any(_same_partition(labels, other) for _, other in candidates)
                and (besides is None or not _same_partition(labels, besides))):
            candidates.append((_centroid_distance(smoothed, labels, *voices), labels))
    candidates.sort(key=lambda candidate: -candidate[0])
    return [labels for _, labels in candidates[:MAX_CANDIDATES]]


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two labellings group the windows alike, whatever the label names."""
    return len(set(zip(a.tolist(), b.tolist()))) == len(set(a.tolist())) == len(set(b.tolist()))


def _centroid_distance(embeddings: np.ndarray, labels: np.ndarray, a: int, b: int) -> float:
    """Cosine distance between the centroids of voices ``a`` and ``b``."""
    return 1 - float(_normalize(embeddings[labels == a].mean(axis=0)) @ _normalize(embeddings[labels == b].mean(axis=0)))


def _speech_per_window(windows: np.ndarray) -> np.ndarray:
    """Seconds of speech each window stands for: its region's length shared among its windows."""
    regions = windows[:, 2].astype(int)
    windows_in_region = np.bincount(regions)[regions]
    return _region_length_per_window(windows) / windows_in_region


def _region_length_per_window(windows: np.ndarray) -> np.ndarray:
    """The length (seconds) of each window's speech region, from its first window's start to its last's end."""
    regions = windows[:, 2].astype(int)
    lengths = np.zeros(len(windows))
    for region in set(regions):
        members = regions == region
        lengths[members] = windows[members, 1].max() - windows[members, 0].min()
    return lengths


def _smooth_within_regions(embeddings: np.ndarray, regions: np.ndarray, width: int = 1) -> np.ndarray:
    """Each window's embedding averaged with up to ``width`` neighbours on each side, same region only."""
    smoothed = np.empty_like(embeddings)
    for i in range(len(embeddings)):
        lo, hi = i, i
        while lo > 0 and i - lo < width and regions[lo - 1] == regions[i]:
            lo -= 1
        while hi < len(embeddings) - 1 and hi - i < width and regions[hi + 1] == regions[i]:
            hi += 1
        smoothed[i] = _normalize(embeddings[lo: hi + 1].mean(axis=0))
    return smoothed


def _segments_from_windows(regions: list[tuple[float, float]], windows: np.ndarray, labels: np.ndarray,
                           embeddings: np.ndarray, method: str) -> Diarization:
    """Cut each speech region where its windows change voice; name voices by first appearance."""
    clusters = sorted(set(labels))
    centroids = np.stack([_normalize(embeddings[labels == c].mean(axis=0)) for c in clusters])
    index_of = {c: i for i, c in enumerate(clusters)}
    similarity = embeddings @ centroids.T  # (windows, clusters)
    pieces: list[tuple[float, float, int, float]] = []  # start, end, cluster, confidence
    for region_index, (region_start, region_end) in enumerate(regions):
        members = np.flatnonzero(windows[:, 2] == region_index)
        region_labels = _smooth([labels[i] for i in members])
        centers = [(windows[i, 0] + windows[i, 1]) / 2 for i in members]
        run_start = region_start
        for k, member in enumerate(members):
            last = k == len(members) - 1
            if last or region_labels[k + 1] != region_labels[k]:
                run_end = region_end if last else (centers[k] + centers[k + 1]) / 2
                run = [m for j, m in enumerate(members) if run_start <= centers[j] <= run_end]
                label = region_labels[k]
                pieces.append((run_start, run_end, label, _confidence(similarity[run or [member]], index_of[label])))
                run_start = run_end
    names: dict[int, str] = {}
    segments = []
    for start_s, end_s, label, confidence in pieces:
        if end_s - start_s <= 0:
            continue
        name = names.setdefault(label, f"spk{len(names)}")
        if segments and segments[-1].speaker == name and start_s - segments[-1].end_s < 1e-3:
            previous = segments.pop()  # the same voice across a window boundary
            start_s, confidence = previous.start_s, min(previous.confidence or 1.0, confidence)
        segments.append(SpeakerSegment(start_s=round_s(start_s), end_s=round_s(end_s), speaker=name,
                                       confidence=round(confidence, 3)))
    return Diarization(segments=tuple(segments), num_speakers=len(names), method=method)


def _pauses(speech: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The gaps between consecutive speech regions."""
    return [(end_s, next_start_s) for (_, end_s), (next_start_s, _) in zip(speech, speech[1:]) if next_start_s > end_s]


def leave_out_pauses(segments: tuple[SpeakerSegment, ...],
                     pauses: list[tuple[float, float]]) -> tuple[SpeakerSegment, ...]:
    """Speaker segments without the pauses inside them.

    Voices are told apart on speech regions split only at longer pauses (``speech_regions``'
    default: shorter regions embed worse), so a segment runs through the short pauses between
    one party's sentences, or between the two parties' turns. Those pauses are nobody's speech:
    finding them (``DiarizationSettings.min_pause_s``) and leaving them out puts the segments'
    edges where speech starts and stops. (Moving a change of voice into a pause near it, as well,
    measured worse: the pause nearest a window-placed change is often inside one party's talk.)

    >>> a = SpeakerSegment(start_s=0.0, end_s=2.1, speaker="spk0")
    >>> b = SpeakerSegment(start_s=2.1, end_s=4.0, speaker="spk1")
    >>> [(s.start_s, s.end_s, s.speaker) for s in leave_out_pauses((a, b), [(1.0, 1.2), (2.0, 2.3)])]
    [(0.0, 1.0, 'spk0'), (1.2, 2.0, 'spk0'), (2.3, 4.0, 'spk1')]
    """
    kept = []
    for segment in segments:
        edges = [segment.start_s]
        for pause_start_s, pause_end_s in pauses:
            if pause_end_s > edges[-1] and pause_start_s < segment.end_s:
                edges.extend((max(pause_start_s, edges[-1]), min(pause_end_s, segment.end_s)))
        edges.append(segment.end_s)
        kept.extend(segment.model_copy(update={"start_s": round_s(edges[k]), "end_s": round_s(edges[k + 1])})
                    for k in range(0, len(edges), 2) if edges[k + 1] > edges[k])
    return tuple(kept)


def _smooth(labels: list[int]) -> list[int]:
    """Median-like filter: a single window whose neighbours agree with each other takes their voice."""
    smoothed = list(labels)
    for i in range(1, len(labels) - 1):
        if labels[i - 1] == labels[i + 1] != labels[i]:
            smoothed[i] = labels[i - 1]
    return smoothed


def _confidence(similarities: np.ndarray, own: int) -> float:
    """How clearly the windows belong to their voice: the margin of cosine similarity to their own
    centroid over the next-best one, 0.15 or more counting as certain. 1.0 with a single voice."""
    if similarities.shape[1] < 2:
        return 1.0
    own_similarity = similarities[:, own]
    others = np.delete(similarities, own, axis=1).max(axis=1)
    margin = float(np.mean(own_similarity - others))
    return float(np.clip(0.5 + margin / 0.3, 0.0, 1.0))


def _normalize(vector: np.ndarray) -> np.ndarray:
    return vector / (np.linalg.norm(vector) or 1.0)


def remove_echo(transcript: Transcript, audio: DecodedAudio, settings: DiarizationSettings) -> Transcript:
    """Drop stereo turns that are only the other party leaking into this channel.

    A turn is echo when, over its span, the other channel is ``echo_level_db`` louder and the two
    signals correlate (a faint copy of the other side). Real overlap, both parties talking at
    once, has two unrelated signals and is kept: it is what the interruption rule looks for.
    """
    if audio.num_channels != 2 or not transcript.turns:
        return transcript
    kept, dropped = [], 0
    for turn in transcript.turns:
        if _is_echo(audio, turn.channel, turn.start_s, turn.end_s, settings):
            dropped += 1
            continue
        kept.append(turn)
    if not dropped:
        return transcript
    without_echo = transcript.model_copy(update={"turns": tuple(kept)})
    warnings = (*transcript.warnings, f"dropped {dropped} turn(s) that were the other channel's echo",
                *silent_channel_warnings(without_echo.silent_channels - transcript.silent_channels))
    return without_echo.model_copy(update={"warnings": warnings})


def _is_echo(audio: DecodedAudio, channel: int, start_s: float, end_s: float, settings: DiarizationSettings) -> bool:
    if channel > 1:
        return False
    first, last = seconds_to_samples(start_s), max(seconds_to_samples(end_s), seconds_to_samples(start_s) + 1)
    own, other = audio.channel(channel)[first:last], audio.channel(1 - channel)[first:last]
    own_rms, other_rms = float(np.sqrt(np.mean(own**2))) + 1e-9, float(np.sqrt(np.mean(other**2))) + 1e-9
    if 20 * np.log10(other_rms / own_rms) < settings.echo_level_db:
        return False
    return _max_correlation(own, other) >= settings.echo_min_correlation


def _max_correlation(a: np.ndarray, b: np.ndarray, max_lag_s: float = 0.06) -> float:
    """Largest normalized cross-correlation of two equal-length signals within ±``max_lag_s``."""
    n = len(a)
    if n < 160:
        return 0.0
    size = 1 << int(np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(a - a.mean(), size) * np.conj(np.fft.rfft(b - b.mean(), size))
    correlation = np.fft.irfft(spectrum, size)
    lag = seconds_to_samples(max_lag_s)
    window = np.concatenate([correlation[: lag + 1], correlation[-lag:]])
    denominator = float(np.linalg.norm(a - a.mean()) * np.linalg.norm(b - b.mean())) or 1.0
    return float(np.max(np.abs(window)) / denominator)


def get_diarizer(settings: Settings) -> Diarizer | None:
    """The process-wide diarizer for mono recordings (None when ``diarization.method`` is "none")."""
    return _load_diarizer(settings.diarization)


@lru_cache(maxsize=2)
def _load_diarizer(settings: DiarizationSettings) -> Diarizer | None:
    if settings.method == "none":
        return None
    if settings.method == "pyannote" or settings.pyannote_pipeline is not None:
        if settings.pyannote_pipeline is None:
            raise ConfigurationError("diarization.method is \"pyannote\" but diarization.pyannote_pipeline is not set")
        return PyannoteDiarizer.from_path(settings.pyannote_pipeline, settings)
    return EmbeddingDiarizer(settings)
