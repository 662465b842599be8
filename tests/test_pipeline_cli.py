import json

import pytest
from conftest import FakeTranscriber, segment

from qa_pipeline import cli
from qa_pipeline.errors import ConfigurationError
from qa_pipeline.evaluation import find_reference, normalized_view
from qa_pipeline.metadata import CallSource
from qa_pipeline.pipeline import discover_calls, inspect_call, inspect_calls
from qa_pipeline.rubric import load_rubric
from qa_pipeline.settings import PROJECT_ROOT
from qa_pipeline.types import CallMetadata, Scorecard

RUBRIC = load_rubric(PROJECT_ROOT / "rubrics" / "default.yaml")


def _fake() -> FakeTranscriber:
    return FakeTranscriber({
        0: [segment(0.2, "您好，工号一零二四，很高兴为您服务"), segment(4.5, "这是公司规定，感谢您的来电，再见")],
        1: [segment(3.1, "我想问一下")],
    })


def test_inspect_call_runs_every_stage(stereo_call, settings):
    timings = {}
    source = discover_calls([stereo_call], settings=settings)[0]
    card = inspect_call(source, settings=settings, rubric=RUBRIC, transcriber=_fake(), timings_s=timings)
    assert card.call_id == stereo_call.stem and card.metadata.agent_id == "1024"
    assert card.roles.agent_channel == 0 and card.roles.source == "auto"
    assert [hit.rule_id for hit in card.hits] == ["forbidden_phrase"]
    assert card.score == 90 and card.passed
    assert set(timings) == {"decode", "diarize", "asr", "score"}


def test_a_broken_file_fails_alone_and_the_batch_goes_on(stereo_call, tmp_path, settings):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEfmt garbage")
    sources = [CallSource(broken, "broken", CallMetadata()), CallSource(stereo_call, "good", CallMetadata())]
    outcomes = list(inspect_calls(sources, settings=settings, rubric=RUBRIC, load_transcriber=_fake))
    assert [outcome.ok for outcome in outcomes] == [False, True]
    assert str(broken) in outcomes[0].error and not outcomes[0].is_transient
    assert outcomes[1].scorecard.call_id == "good"


def test_a_configuration_error_stops_the_batch(stereo_call, settings):
    def no_model():
        raise ConfigurationError("model 'x': not found")

    sources = [CallSource(stereo_call, "c", CallMetadata())]
    with pytest.raises(ConfigurationError):
        list(inspect_calls(sources, settings=settings, rubric=RUBRIC, load_transcriber=no_model))


def test_cli_prints_scorecards_writes_json_and_reports_failures(stereo_call, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "get_transcriber", lambda settings: _fake())
    broken = tmp_path / "empty.wav"
    broken.write_bytes(b"")
    out = tmp_path / "json"
    code = cli.main(["inspect", str(stereo_call), str(broken), "--json", str(out), "--agent-channel", "0"])
    printed = capsys.readouterr().out
    assert code == 1  # one call failed
    assert "得分 90" in printed and "forbidden_phrase" in printed and "[00:04" in printed
    assert f"{broken}: 无法质检" in printed and "empty (0 bytes)" in printed
    data = json.loads((out / f"{stereo_call.stem}.json").read_text(encoding="utf-8"))
    card = Scorecard.model_validate(data)
    assert card.roles.source == "config" and data["hits"][0]["rule_id"] == "forbidden_phrase"
    assert (data["hits"][0]["start"], data["hits"][0]["end"]) == (4.5, 4.5 + 6 * 0.25)  # 这是公司规定
    assert not (out / "empty.json").exists()


def test_cli_rejects_a_bad_rubric_before_touching_audio(stereo_call, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nversion: 1\nrules:\n  - {id: a, type: magic}\n", encoding="utf-8")
    assert cli.main(["inspect", str(stereo_call), "--rubric", str(bad)]) == 2
    assert "unknown rule type 'magic'" in capsys.readouterr().err


def test_cli_rubric_check_and_models_list(capsys):
    assert cli.main(["rubric", "check", str(PROJECT_ROOT / "rubrics" / "default.yaml")]) == 0
    assert "cs_inbound v2, 14 rules" in capsys.readouterr().out
    assert cli.main(["models", "list"]) == 0
    listing = capsys.readouterr().out
    assert "* whisper-base" in listing and "whisper-large-v3" in listing


def test_cli_with_nothing_to_inspect(tmp_path, capsys):
    assert cli.main(["inspect", str(tmp_path)]) == 2
    assert "no recordings found" in capsys.readouterr().err


def test_cli_unknown_model_is_a_clear_error(stereo_call, capsys, monkeypatch):
    monkeypatch.setenv("ZHIJIAN_ASR__MODEL", "whisper-huge")
    assert cli.main(["inspect", str(stereo_call)]) == 2
    assert "whisper-huge" in capsys.readouterr().err


def test_eval_asr_measures_labelled_calls_and_a_broken_reference_fails_alone(stereo_call, tmp_path, monkeypatch,
                                                                              capsys):
    monkeypatch.setattr(cli, "get_transcriber", lambda settings: _fake())
    labelled = tmp_path / "labelled"
    labelled.mkdir()
    for name in ("a", "b", "c"):
        (labelled / f"{name}.wav").write_bytes(stereo_call.read_bytes())
    agent_said = "您好，工号一零二四，很高兴为您服务。这是公司规定，感谢您的来电，再见。"
    (labelled / "a.ch0.txt").write_text(agent_said, encoding="utf-8-sig")
    (labelled / "a.ch1.txt").write_bytes("我想问一下话费".encode("gbk"))  # the fake hears 「我想问一下」
    (labelled / "b.yaml").write_text("turns: [unclosed", encoding="utf-8")
    report = tmp_path / "cer.json"

    code = cli.main(["eval", "asr", str(labelled), "--json", str(report)])

    printed = capsys.readouterr().out
    assert code == 1  # b failed
    assert str(labelled / "b.yaml") in printed
    summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
    reference_chars = len(normalized_view(agent_said)) + len("我想问一下话费")
    assert summary["cer"] == pytest.approx(2 / reference_chars)
    assert (summary["calls"], summary["failed"], summary["without_reference"]) == (1, 1, 1)


def test_a_reference_in_neither_utf8_nor_gb18030_is_named(tmp_path):
    (tmp_path / "call.txt").write_bytes(b"\xff\xfe\x00\xd8 broken")
    with pytest.raises(ConfigurationError, match=r"call\.txt.*neither UTF-8 nor GB18030"):
        find_reference(tmp_path / "call.wav")
