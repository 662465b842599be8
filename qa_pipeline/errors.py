"""The exception hierarchy.

``PermanentError``: the input or configuration is wrong; retrying will not help, fix the input.
``TransientError``: something outside the input failed (model load, storage); a retry may succeed.
Messages name the file or item and say what to do next.
"""

from __future__ import annotations

from pathlib import Path


class QAPipelineError(Exception):
    """Base class of every error this package raises on purpose."""


class PermanentError(QAPipelineError):
    """Retrying will not help: the input or the configuration must change."""


class TransientError(QAPipelineError):
    """May succeed on retry (resources, storage, model loading)."""


class ConfigurationError(PermanentError):
    """A setting, manifest or model name is wrong."""


class RubricError(PermanentError):
    """A rubric file is invalid."""


class AudioError(PermanentError):
    """A recording cannot be inspected. ``path`` names the file."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class AudioNotFoundError(AudioError):
    pass


class EmptyAudioError(AudioError):
    pass


class AudioDecodeError(AudioError):
    """Not audio, corrupt or truncated."""


class UnsupportedAudioError(AudioError):
    """Readable, but not something we inspect (e.g. six channels)."""


class AudioTooLongError(AudioError):
    pass


class AudioTooShortError(AudioError):
    pass


class NoSpeechError(AudioError):
    """The file holds only silence: a normal outcome for a batch, not a crash."""


class ModelLoadError(TransientError):
    """A model exists but could not be loaded (memory, device)."""


class StoreError(TransientError):
    """The results database could not be reached or written (locked, connection lost)."""
