import hashlib
import sys
from pathlib import Path

import pytest
import yaml

from qa_pipeline.errors import ConfigurationError
from qa_pipeline.registry import ModelRegistry
from qa_pipeline.settings import PROJECT_ROOT

PART_1, PART_2, CONFIG = b"\x01" * 1000, b"\x02" * 500, b'{"n_mels": 80}'


@pytest.fixture
def fake_packages(tmp_path, monkeypatch) -> Path:
    """Two importable packages carrying a model in parts, like the PyPI Whisper packages."""
    site = tmp_path / "site"
    for package, files in {"fakemodel_one": {"model.bin.part1": PART_1},
                           "fakemodel_two": {"model.bin.part2": PART_2, "config.json": CONFIG}}.items():
        (site / package / "data").mkdir(parents=True)
        (site / package / "__init__.py").write_text("")
        for name, data in files.items():
            (site / package / "data" / name).write_bytes(data)
    monkeypatch.syspath_prepend(str(site))
    for package in ("fakemodel_one", "fakemodel_two"):
        sys.modules.pop(package, None)
    return site


def _registry(tmp_path: Path, model_sha256: str) -> ModelRegistry:
    registry_file = tmp_path / "registry.yaml"
    registry_file.write_text(yaml.safe_dump({"models": {
        "tiny": {"kind": "asr", "engine": "faster-whisper", "licence": "MIT", "size_bytes": 1500,
                 "source": {"type": "pypi", "packages": ["fakemodel-one", "fakemodel-two"], "files": {
                     "model.bin": {"parts": ["fakemodel_one/data/model.bin.part1", "fakemodel_two/data/model.bin.part2"],
                                   "sha256": model_sha256},
                     "config.json": {"parts": ["fakemodel_two/data/config.json"]}}}},
        "big": {"kind": "asr", "engine": "faster-whisper", "licence": "MIT", "size_bytes": 3_000_000_000,
                "source": {"type": "local", "path": None}},
    }}))
    return ModelRegistry.load(registry_file, tmp_path / "cache")


def test_parts_are_assembled_once_and_verified(tmp_path, fake_packages):
    good_sha = hashlib.sha256(PART_1 + PART_2).hexdigest()
    registry = _registry(tmp_path, good_sha)
    assert registry.status(registry.entries["tiny"]) == "assemblable"
    resolved = registry.resolve("tiny")
    assert (resolved.path / "model.bin").read_bytes() == PART_1 + PART_2
    assert (resolved.path / "config.json").read_bytes() == CONFIG
    assert resolved.revision == good_sha[:12]
    assert registry.status(registry.entries["tiny"]) == "ready"
    mtime = (resolved.path / "model.bin").stat().st_mtime_ns
    assert registry.resolve("tiny").path == resolved.path
    assert (resolved.path / "model.bin").stat().st_mtime_ns == mtime  # not rebuilt
    assert not [p for p in resolved.path.iterdir() if p.name.startswith(".model.bin")]  # no temp files left


def test_a_wrong_hash_is_refused_and_leaves_no_model(tmp_path, fake_packages):
    registry = _registry(tmp_path, "0" * 64)
    with pytest.raises(ConfigurationError, match="expected 000000000000"):
        registry.resolve("tiny")
    assert not (tmp_path / "cache" / "tiny" / "model.bin").exists()


def test_a_missing_package_says_what_to_install(tmp_path):
    registry = _registry(tmp_path, "0" * 64)
    assert registry.status(registry.entries["tiny"]) == "missing"
    with pytest.raises(ConfigurationError, match="pip install fakemodel-one fakemodel-two"):
        registry.resolve("tiny")


def test_local_model_not_configured_says_how_to_point_at_it(tmp_path):
    registry = _registry(tmp_path, "0" * 64)
    with pytest.raises(ConfigurationError, match="ZHIJIAN_ASR__MODEL"):
        registry.resolve("big")


def test_any_ctranslate2_folder_loads_by_path(tmp_path):
    registry = _registry(tmp_path, "0" * 64)
    folder = tmp_path / "large-v3-zh"
    folder.mkdir()
    with pytest.raises(ConfigurationError, match="missing model.bin, config.json"):
        registry.resolve(str(folder))
    (folder / "model.bin").write_bytes(b"x")
    (folder / "config.json").write_text("{}")
    assert registry.resolve(str(folder)).path == folder


def test_unknown_name_lists_the_known_ones(tmp_path):
    with pytest.raises(ConfigurationError, match=r"neither a model in the registry \(big, tiny\)"):
        _registry(tmp_path, "0" * 64).resolve("whisper-huge")


def test_the_project_registry_is_valid_and_has_whisper_base(tmp_path):
    registry = ModelRegistry.load(PROJECT_ROOT / "models" / "registry.yaml", tmp_path)
    base = registry.entries["whisper-base"]
    assert base.kind == "asr" and base.licence == "MIT" and base.source.type == "pypi"
    assert {"whisper-small", "whisper-medium", "whisper-large-v3"} <= set(registry.entries)


def test_a_broken_registry_names_the_model(tmp_path):
    registry_file = tmp_path / "registry.yaml"
    registry_file.write_text("models:\n  bad:\n    kind: asr\n")
    with pytest.raises(ConfigurationError, match="model 'bad'"):
        ModelRegistry.load(registry_file, tmp_path)
