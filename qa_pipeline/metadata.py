"""Call metadata from file names and CSV manifests.

A file-name pattern is a template such as ``{date}_agent{agent_id}_team{team}_{direction}_{seq}``
matched against the file name without its extension. A manifest is a CSV with a ``path`` column
(relative to the manifest's folder) and any of: ``call_id``, ``agent_id``, ``team``, ``shift``,
``direction``, ``start_time`` (ISO 8601), ``line_of_business``, ``agent_channel``; other columns land
in ``metadata.extra``. Manifest values win over the file name.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from qa_pipeline.errors import ConfigurationError
from qa_pipeline.text import read_chinese_text
from qa_pipeline.types import CallMetadata, Direction

_KNOWN_FIELDS = ("agent_id", "team", "shift", "direction", "line_of_business", "agent_channel")
_FIELD_REGEX = {
    "date": r"\d{8}",
    "time": r"\d{6}",
    "direction": r"in|out|inbound|outbound|IN|OUT",
}
_DIRECTIONS = {"in": Direction.INBOUND, "inbound": Direction.INBOUND, "呼入": Direction.INBOUND,
               "out": Direction.OUTBOUND, "outbound": Direction.OUTBOUND, "呼出": Direction.OUTBOUND}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class CallSource:
    """One recording to inspect: its path, call id and metadata."""

    path: Path
    call_id: str
    metadata: CallMetadata


def compile_filename_pattern(template: str) -> re.Pattern[str]:
    """Turn ``{field}`` placeholders into named groups; the last field takes the rest.

    >>> compile_filename_pattern("{date}_agent{agent_id}").fullmatch("20261121_agent1024")["agent_id"]
    '1024'
    """
    names = _PLACEHOLDER.findall(template)
    if len(set(names)) != len(names):
        raise ConfigurationError(f"file-name pattern {template!r}: a field appears twice")
    parts: list[str] = []
    position = 0
    for index, match in enumerate(_PLACEHOLDER.finditer(template)):
        parts.append(re.escape(template[position : match.start()]))
        name = match.group(1)
        is_last = index == len(names) - 1
        parts.append(f"(?P<{name}>{_FIELD_REGEX.get(name, '.+' if is_last else '[^_]+?')})")
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts))


def metadata_from_filename(path: Path, template: str | None) -> CallMetadata:
    """Parse the file name with the pattern; a name that does not match gives empty metadata."""
    if not template:
        return CallMetadata()
    match = compile_filename_pattern(template).fullmatch(path.stem)
    if match is None:
        return CallMetadata()
    return _build_metadata(match.groupdict(), origin=str(path))


def read_manifest(manifest: Path) -> list[CallSource]:
    """Read a CSV manifest into call sources (paths resolved against the manifest's folder).

    Raises:
        ConfigurationError: missing file, no ``path`` column, or a bad value (row number named).
    """
    if not manifest.is_file():
        raise ConfigurationError(f"{manifest}: manifest not found")
    reader = csv.DictReader(io.StringIO(read_chinese_text(manifest, "manifest"), newline=""))
    if not reader.fieldnames or "path" not in reader.fieldnames:
        raise ConfigurationError(f"{manifest}: needs a 'path' column (has {reader.fieldnames})")
    sources = []
    for row_number, row in enumerate(reader, start=2):
        raw_path = (row.pop("path") or "").strip()
        if not raw_path:
            raise ConfigurationError(f"{manifest}, row {row_number}: empty path")
        path = Path(raw_path)
        if not path.is_absolute():
            path = manifest.parent / path
        call_id = (row.pop("call_id", None) or "").strip() or path.stem
        metadata = _build_metadata(row, origin=f"{manifest}, row {row_number}")
        sources.append(CallSource(path=path, call_id=call_id, metadata=metadata))
    return sources


def merge_metadata(base: CallMetadata, override: CallMetadata) -> CallMetadata:
    """Fields set in ``override`` win; ``extra`` dictionaries are merged."""
    values = base.model_dump(exclude={"extra"})
    values.update(override.model_dump(exclude={"extra"}, exclude_none=True))
    return CallMetadata(**values, extra={**base.extra, **override.extra})


def _build_metadata(fields: dict[str, str | None], *, origin: str) -> CallMetadata:
    values: dict[str, object] = {}
    extra: dict[str, str] = {}
    date = time = None
    for name, raw in fields.items():
        value = (raw or "").strip()
        if not value or name is None:
            continue
        if name == "date":
            date = value
        elif name == "time":
            time = value
        elif name == "start_time":
            values["start_time"] = _parse_datetime(value, origin)
        elif name == "direction":
            if value.lower() not in _DIRECTIONS and value not in _DIRECTIONS:
                raise ConfigurationError(f"{origin}: direction {value!r} is not in/out")
            values["direction"] = _DIRECTIONS.get(value.lower(), _DIRECTIONS.get(value))
        elif name in _KNOWN_FIELDS:
            values[name] = value
        else:
            extra[name] = value
    if date and "start_time" not in values:
        values["start_time"] = _parse_datetime(date + (time or "000000"), origin, "%Y%m%d%H%M%S")
    try:
        return CallMetadata(**values, extra=extra)
    except ValidationError as exc:
        problems = "; ".join(f"{error['loc'][0]}: {error['msg']}" for error in exc.errors())
        raise ConfigurationError(f"{origin}: bad metadata: {problems}") from exc


def _parse_datetime(value: str, origin: str, fmt: str | None = None) -> datetime:
    try:
        return datetime.strptime(value, fmt) if fmt else datetime.fromisoformat(value)
    except ValueError as exc:
        raise ConfigurationError(f"{origin}: {value!r} is not a date/time") from exc
