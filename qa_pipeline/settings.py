"""All configuration in one typed place.

Sources, highest priority first: explicit overrides (CLI flags), environment variables
(``ZHIJIAN_*``, nested with ``__``: ``ZHIJIAN_ASR__MODEL=/models/large-v3``), an optional TOML file
(``--config`` or ``ZHIJIAN_CONFIG``), then the defaults below. Read once at the edge (CLI, flow
entry) and passed down; library code never reads the environment.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from qa_pipeline.errors import ConfigurationError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_FILE_ENV = "ZHIJIAN_CONFIG"


# Words Whisper should expect on service calls (faster-whisper hotwords). Measured to lower CER on
# telephone calls (benchmarks/bench_asr.py); a center adds its product names in `hotwords`.
DEFAULT_HOTWORDS = ("工号", "核实", "来电", "客服", "账单", "理赔", "话费", "套餐", "预留", "订单号")


class ASRSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = "whisper-base"  # a name in models/registry.yaml, or a CTranslate2 model folder
    device: Literal["cpu", "cuda", "auto"] = "auto"  # auto: CUDA when a GPU is visible
    compute_type: str = "auto"  # auto: float16 on CUDA, int8 on CPU; or any CTranslate2 type
    cpu_threads: int = Field(default=0, ge=0)  # per worker; 0: the cores shared among the workers
    num_workers: int = Field(default=2, ge=1)  # parallel decodes (stereo channels run side by side)
    beam_size: int = Field(default=5, ge=1)
    # Decoding temperatures: Whisper retries a window at the next one when its output looks like a
    # loop. With hotwords, a short near-silent tail can loop at every temperature (one call took 26 s
    # instead of 4 s); decoding at 0.0 only bounds that cost and measured the same CER.
    temperatures: tuple[float, ...] = (0.0,)
    no_repeat_ngram_size: int = Field(default=0, ge=0)  # >0 blocks repeated n-grams; 3 hurt digit strings
    language: str = "zh"
    # Steers Whisper to Simplified Mandarin, and to write a spoken digit string as it hears it
    # (幺三八…): lower CER than 「以下是普通话的句子。」 alone on both evaluation sets
    # (benchmarks/bench_asr.py --prompt). A longer prompt ending in 「工号零二四七。」 did better on
    # the numbers-heavy set only, and made Whisper hear the 「您好」 opening a mixed mono call as 「以后」.
    initial_prompt: str | None = "以下是普通话的句子。我的电话是幺三八一二三四五六七八。"
    hotwords: tuple[str, ...] = DEFAULT_HOTWORDS  # domain and product words; () for none
    vad_filter: bool = True  # Silero VAD: decode speech only, no text on silence
    min_silence_duration_ms: int = Field(default=500, ge=0)  # VAD: gap that splits speech
    turn_split_gap_s: float = Field(default=1.0, gt=0)  # a longer pause between words starts a new turn
    # Mono with two or more diarized speakers: each speaker's speech is decoded by itself, the
    # others' left out (transcribe.speaker_streams), as the channels of a stereo call are; False:
    # the mix is decoded at once and its words are then shared out by speaker.
    decode_by_speaker: bool = True
    drop_hallucinations: bool = True  # prompt echoes, subtitle boilerplate, loops (asr_guards.py)
    # Homophones of service words are rewritten as the word (花费→话费, 及主→机主; see
    # qa_pipeline/vocabulary.py): the built-in service terms, the hotwords and these word lists
    # (one or more words per line, '#' comments). Measured in benchmarks/bench_asr.py.
    correct_homophones: bool = True
    vocabulary_files: tuple[Path, ...] = ()

    @property
    def hotwords_text(self) -> str | None:
        return " ".join(self.hotwords) or None


class AudioSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_duration_s: float = Field(default=3 * 3600, gt=0)  # longer files are rejected
    min_duration_s: float = Field(default=0.5, ge=0)  # shorter files are rejected
    max_file_size_bytes: int = Field(default=2 * 1024**3, gt=0)
    silence_peak_dbfs: float = -55.0  # a file whose loudest sample is below this is silent
    truncation_tolerance_s: float = Field(default=0.5, ge=0)  # declared vs decoded length


class MetadataSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Fields in braces are read from the file name (without extension). Known fields: date
    # (YYYYMMDD), time (HHMMSS), agent_id, team, shift, direction (in/out), line_of_business;
    # any other name lands in metadata.extra. A name that does not match keeps empty metadata.
    filename_pattern: str | None = "{date}_agent{agent_id}_team{team}_{direction}_{seq}"
    manifest: Path | None = None  # CSV with a `path` column; overrides the file name


class DiarizationSettings(BaseModel):
    """Who spoke when on mono recordings (stereo calls have one party per channel)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # "embedding": Silero VAD + resemblyzer speaker embeddings + clustering (offline, on PyPI);
    # "pyannote": a local pyannote.audio pipeline (pyannote_pipeline); "none": mono stays one speaker.
    method: Literal["embedding", "pyannote", "none"] = "embedding"
    pyannote_pipeline: Path | None = None  # a local pipeline folder/config.yaml or checkpoint
    min_speakers: int = Field(default=1, ge=1)
    max_speakers: int = Field(default=4, ge=1)  # transfers and three-way calls happen
    # Windows of speech (seconds) embedded every hop_s; a speaker change is placed to within hop_s.
    window_s: float = Field(default=1.5, gt=0.3, le=1.6)
    hop_s: float = Field(default=0.25, gt=0)
    # A further voice is accepted only if every voice has min_speaker_s of speech and every two
    # voices' centroids are split_distance apart (cosine). Chosen on benchmarks/data/asr_eval
    # (one voice split in two: almost always closer, or a sliver of speech).
    split_distance: float = Field(default=0.075, gt=0, lt=2)
    extra_voice_distance: float = Field(default=0.13, gt=0, lt=2)  # for the 3rd and 4th voice
    # Two voices closer than this (twice split_distance) are barely told apart by sound: what they
    # say is checked too, and another split into two is taken where the first does not show an
    # agent and a customer (roles.split_by_content). 0 turns this off.
    content_check_distance: float = Field(default=0.15, ge=0, lt=2)
    min_speaker_s: float = Field(default=3.0, ge=0)
    # Voices are told apart on speech split at pauses of 0.3 s (shorter pieces embed worse); the
    # pauses of at least this length inside their segments are then left out (nobody's speech).
    min_pause_s: float = Field(default=0.15, gt=0)
    # A third or fourth voice (a transfer, a supervisor) talks at length; a few short replies that
    # cluster apart are one party's words too briefly heard to embed well.
    min_extra_speaker_s: float = Field(default=6.0, ge=0)
    # Stereo: a turn is echo of the other channel when that channel is this much louder over the
    # turn and their signals correlate (line echo, crosstalk).
    echo_level_db: float = Field(default=12.0, ge=0)
    echo_min_correlation: float = Field(default=0.5, ge=0, le=1)


class StoreSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # SQLAlchemy URL of the results database: a SQLite file (no server) or PostgreSQL, e.g.
    # postgresql+psycopg://zhijian:secret@db-host/zhijian. Relative SQLite paths are from the cwd.
    url: str = "sqlite:///out/zhijian.db"


class BatchSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # Calls inspected at once, one process (and model) each, the cores shared among them. Two beat
    # one on a 2-core machine (benchmarks/bench_batch.py): decoding and scoring of one call overlap
    # the ASR of the other.
    workers: int = Field(default=2, ge=1)
    max_attempts: int = Field(default=3, ge=1)  # per call, for transient errors only
    retry_delay_s: float = Field(default=2.0, ge=0)  # doubled after each failed attempt
    retry_failed: bool = False  # also retry calls that failed permanently with the same audio


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ZHIJIAN_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    asr: ASRSettings = ASRSettings()
    audio: AudioSettings = AudioSettings()
    metadata: MetadataSettings = MetadataSettings()
    diarization: DiarizationSettings = DiarizationSettings()
    store: StoreSettings = StoreSettings()
    batch: BatchSettings = BatchSettings()
    # Which stereo channel is the agent: 0 (left), 1 (right) or "auto" (from what is said).
    agent_channel: Literal["auto"] | int = "auto"
    rubric: Path = PROJECT_ROOT / "rubrics" / "default.yaml"
    models_dir: Path = PROJECT_ROOT / "models"  # holds registry.yaml
    model_cache_dir: Path | None = None  # assembled weights; default models_dir/cache

    @field_validator("agent_channel", mode="before")
    @classmethod
    def _parse_agent_channel(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip() in {"0", "1"}:
            return int(value)
        return value

    @field_validator("agent_channel", mode="after")
    @classmethod
    def _check_agent_channel(cls, value: Any) -> Any:
        if value != "auto" and value not in (0, 1):
            raise ValueError("must be 0, 1 or 'auto'")
        return value

    @property
    def resolved_model_cache_dir(self) -> Path:
        return self.model_cache_dir or self.models_dir / "cache"

    def fingerprint(self) -> str:
        """A hash of the settings that change a transcript: ASR, diarization and the agent channel.

        The results store keeps one transcript per recording and fingerprint; how many threads or
        workers decoded it does not count.
        """
        payload = self.model_dump_json(
            include={"asr": set(ASRSettings.model_fields) - {"cpu_threads", "num_workers"}, "agent_channel": True,
                     "diarization": True}
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from overrides, the environment and an optional TOML file.

    Args:
        config_file: a TOML file; if None, ``$ZHIJIAN_CONFIG`` is used when set.
        **overrides: top-level fields that win over every other source (CLI flags).

    Raises:
        ConfigurationError: the file is missing or a value is invalid.
    """
    path = config_file or (Path(os.environ[CONFIG_FILE_ENV]) if os.environ.get(CONFIG_FILE_ENV) else None)
    overrides = {key: value for key, value in overrides.items() if value is not None}
    try:
        if path is None:
            return Settings(**overrides)
        if not path.is_file():
            raise ConfigurationError(f"{path}: config file not found")
        return _settings_with_toml(path)(**overrides)
    except ValidationError as exc:
        source = f"{path}" if path else "settings"
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigurationError(f"{source}: invalid configuration: {problems}") from exc


def _settings_with_toml(path: Path) -> type[Settings]:
    class FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=path)

        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    return FileSettings
