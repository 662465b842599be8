from datetime import datetime
from pathlib import Path

import pytest

from qa_pipeline.errors import ConfigurationError
from qa_pipeline.metadata import metadata_from_filename, read_manifest
from qa_pipeline.pipeline import discover_calls
from qa_pipeline.settings import MetadataSettings, Settings, load_settings
from qa_pipeline.types import Direction

PATTERN = "{date}_agent{agent_id}_team{team}_{direction}_{seq}"


def test_filename_pattern_fills_metadata():
    meta = metadata_from_filename(Path("/calls/20261121_agent1024_teamA_in_0001.wav"), PATTERN)
    assert meta.agent_id == "1024" and meta.team == "A" and meta.direction is Direction.INBOUND
    assert meta.start_time == datetime(2026, 11, 21)
    assert meta.extra == {"seq": "0001"}


def test_a_name_that_does_not_match_gives_empty_metadata():
    meta = metadata_from_filename(Path("recording-42.mp3"), PATTERN)
    assert meta.agent_id is None and meta.extra == {}


def test_custom_pattern_with_time_and_shift():
    meta = metadata_from_filename(Path("A班_1024_20261121_093000.wav"), "{shift}班_{agent_id}_{date}_{time}")
    assert meta.shift == "A" and meta.agent_id == "1024" and meta.start_time == datetime(2026, 11, 21, 9, 30)


def test_manifest_overrides_file_name_and_resolves_relative_paths(tmp_path):
    (tmp_path / "calls").mkdir()
    audio = tmp_path / "calls" / "20261121_agent1024_teamA_in_0001.wav"
    audio.write_bytes(b"")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "path,call_id,agent_id,direction,start_time,agent_channel,queue\n"
        "calls/20261121_agent1024_teamA_in_0001.wav,C-001,2048,out,2026-11-21T10:15:00,1,vip\n",
        encoding="utf-8",
    )
    settings = Settings(metadata=MetadataSettings(filename_pattern=PATTERN, manifest=manifest))
    (source,) = discover_calls([audio], settings=settings)
    assert source.call_id == "C-001"
    assert source.metadata.agent_id == "2048"  # manifest wins
    assert source.metadata.team == "A"  # file name fills the rest
    assert source.metadata.direction is Direction.OUTBOUND
    assert source.metadata.agent_channel == 1
    assert source.metadata.extra == {"seq": "0001", "queue": "vip"}
    # with no paths, the manifest lists the calls
    assert [s.call_id for s in discover_calls([], settings=settings)] == ["C-001"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("file,agent_id\nx.wav,1\n", "needs a 'path' column"),
        ("path,direction\nx.wav,sideways\n", "row 2: direction 'sideways'"),
        ("path,start_time\nx.wav,yesterday\n", "row 2: 'yesterday' is not a date"),
        ("path,agent_channel\nx.wav,7\n", "row 2: bad metadata: agent_channel"),
    ],
)
def test_bad_manifest_names_the_row_and_problem(tmp_path, content, message):
    manifest = tmp_path / "m.csv"
    manifest.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=message):
        read_manifest(manifest)


def test_a_manifest_excel_saved_on_chinese_windows_reads(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_bytes("path,call_id,team,direction,业务线\r\n录音/x.wav,C-1,投诉组,呼出,信用卡\r\n".encode("gbk"))
    (source,) = read_manifest(manifest)
    assert source.path == tmp_path / "录音" / "x.wav" and source.call_id == "C-1"
    assert source.metadata.team == "投诉组" and source.metadata.direction is Direction.OUTBOUND
    assert source.metadata.extra == {"业务线": "信用卡"}


def test_a_manifest_in_no_chinese_encoding_is_named(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_bytes(b"path\n\xff\xfe\x00\xd8.wav\n")
    with pytest.raises(ConfigurationError, match=r"m\.csv: this manifest is neither UTF-8 nor GB18030"):
        read_manifest(manifest)


def test_discover_finds_audio_in_folders_and_keeps_missing_paths(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.wav").write_bytes(b"")
    (tmp_path / "a" / "notes.txt").write_text("no")
    sources = discover_calls([tmp_path / "a", tmp_path / "gone.mp3"], settings=Settings())
    assert [source.path.name for source in sources] == ["x.wav", "gone.mp3"]


def test_env_overrides_toml_and_flags_override_env(tmp_path, monkeypatch):
    config = tmp_path / "zhijian.toml"
    config.write_text('agent_channel = 1\n[asr]\nmodel = "/models/large-v3"\nbeam_size = 3\n', encoding="utf-8")
    monkeypatch.setenv("ZHIJIAN_ASR__BEAM_SIZE", "2")
    settings = load_settings(config)
    assert settings.asr.model == "/models/large-v3" and settings.asr.beam_size == 2 and settings.agent_channel == 1
    assert load_settings(config, agent_channel="auto").agent_channel == "auto"


def test_config_file_from_environment(tmp_path, monkeypatch):
    config = tmp_path / "c.toml"
    config.write_text('[asr]\ndevice = "cuda"\ncompute_type = "float16"\n', encoding="utf-8")
    monkeypatch.setenv("ZHIJIAN_CONFIG", str(config))
    assert load_settings().asr.device == "cuda"


@pytest.mark.parametrize(
    ("env", "value", "message"),
    [("ZHIJIAN_AGENT_CHANNEL", "2", "agent_channel"), ("ZHIJIAN_ASR__BEAM_SIZE", "zero", "asr.beam_size")],
)
def test_invalid_settings_name_the_field(monkeypatch, env, value, message):
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigurationError, match=message):
        load_settings()


def test_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigurationError, match="nope.toml: config file not found"):
        load_settings(tmp_path / "nope.toml")


def test_fingerprint_changes_with_results_relevant_settings():
    assert Settings().fingerprint() == Settings().fingerprint()
    assert Settings().fingerprint() != Settings(agent_channel=1).fingerprint()


def test_fingerprint_ignores_how_many_threads_decoded():
    from qa_pipeline.settings import ASRSettings

    assert Settings().fingerprint() == Settings(asr=ASRSettings(cpu_threads=1, num_workers=4)).fingerprint()
    assert Settings().fingerprint() != Settings(asr=ASRSettings(beam_size=1)).fingerprint()
