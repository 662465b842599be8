"""A batch in its own process, for the kill -9 test: ``batch_child.py CALLS_DIR DB_URL``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fakes import load_scripted_transcriber  # noqa: E402

from qa_pipeline.batch import run_batch  # noqa: E402
from qa_pipeline.pipeline import discover_calls  # noqa: E402
from qa_pipeline.settings import BatchSettings, Settings, StoreSettings  # noqa: E402

if __name__ == "__main__":
    settings = Settings(store=StoreSettings(url=sys.argv[2]), batch=BatchSettings(retry_delay_s=0, workers=1), agent_channel=0)
    summary = run_batch(discover_calls([Path(sys.argv[1])], settings=settings), settings,
                        load_transcriber=load_scripted_transcriber)
    print(summary.format(), flush=True)
