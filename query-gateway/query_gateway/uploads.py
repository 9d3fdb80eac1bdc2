"""A contribution upload read as it streams, its file never at rest in plaintext.

Starlette's form parser would keep an uploaded file in a ``SpooledTemporaryFile``: in memory
up to 1 MiB, then a plaintext temporary file. Here the ``multipart/form-data`` body is parsed
as it arrives (python-multipart's push parser) and the ``file`` part goes straight into a
`vault.SealedUpload` (AES-GCM chunks under a key held only in memory). The only other parts
accepted are small text parts: ``table``, and the provider's ``statement`` and ``signature``
(issue 17), each at most once and bounded. The body's size is bounded by
`BodyLimitMiddleware` (``DEXIN_MAX_UPLOAD``) as it streams.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header
from starlette.requests import Request

from governance import InvalidRequest, UnsupportedMediaType
from vault import SealedUpload

TABLE = re.compile(r"^[a-z_]{1,40}$")
MAX_TABLE_BYTES = 64
TEXT_PARTS = {"table": MAX_TABLE_BYTES, "statement": 2048, "signature": 2048}  # bytes at most
FORMATS: dict[str, Literal["csv", "parquet"]] = {".csv": "csv", ".parquet": "parquet"}


def _body(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    """The request body as OpenAPI describes it (the route reads the stream itself)."""
    schema = {"type": "object", "required": required, "properties": properties,
              "additionalProperties": False}  # any other part is refused  # fmt: skip
    return {"requestBody": {"required": True,
                            "content": {"multipart/form-data": {"schema": schema}}}}  # fmt: skip


_TABLE = {"type": "string", "pattern": TABLE.pattern}
_FILE = {"type": "string", "contentMediaType": "application/octet-stream"}
# a correction's body (`routes.disputes`): a table and a file
OPENAPI_BODY: dict[str, Any] = _body(["table", "file"], {"table": _TABLE, "file": _FILE})
# a contribution's body: the provider's signed statement between the table and the file
SIGNED_OPENAPI_BODY: dict[str, Any] = _body(
    ["table", "statement", "signature", "file"],
    {
        "table": _TABLE,
        "statement": {"type": "string", "maxLength": TEXT_PARTS["statement"],
                      "description": "the provider's statement (JSON, v1: docs/api.md)"},
        "signature": {"type": "string", "maxLength": TEXT_PARTS["signature"],
                      "description": "a detached JWS over the statement's exact bytes"},
        "file": _FILE,
    },
)  # fmt: skip


@dataclass
class ContributionForm:
    """The parsed form: the table's name, the sealed file (the caller closes it), and the
    provider's statement and signature as sent (None when a part is absent)."""

    table: str
    upload: SealedUpload
    statement: bytes | None = None
    signature: str | None = None


@dataclass
class _Part:
    name: str = ""
    header_name: bytes = b""
    header_value: bytes = b""
    disposition: bytes = b""
    data: bytearray = field(default_factory=bytearray)
    upload: SealedUpload | None = None


class _Form:
    """python-multipart callbacks filling the text parts and ``upload``; raise on anything
    else."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.part = _Part()
        self.texts: dict[str, bytes] = {}
        self.upload: SealedUpload | None = None

    @property
    def table(self) -> bytes | None:
        return self.texts.get("table")

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.begin,
            "on_header_field": self.header_field,
            "on_header_value": self.header_value,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.data,
            "on_part_end": self.end,
        }

    def begin(self) -> None:
        self.part = _Part()

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self.part.header_name += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self.part.header_value += data[start:end]

    def header_end(self) -> None:
        if self.part.header_name.lower() == b"content-disposition":
            self.part.disposition = self.part.header_value
        self.part.header_name = self.part.header_value = b""

    def headers_finished(self) -> None:
        _, options = parse_options_header(self.part.disposition)
        self.part.name = options.get(b"name", b"").decode("latin-1")
        if self.part.name == "file" and self.upload is None and b"filename" in options:
            self.upload = self.part.upload = SealedUpload(self.directory, _format(options))
        elif (self.part.name not in TEXT_PARTS or self.part.name in self.texts
              or b"filename" in options):  # fmt: skip
            raise InvalidRequest([{"loc": ["body"], "type": "extra_part"}])  # never its name

    def data(self, data: bytes, start: int, end: int) -> None:
        if self.part.upload is not None:
            self.part.upload.write(data[start:end])
            return
        self.part.data += data[start:end]
        if len(self.part.data) > TEXT_PARTS[self.part.name]:
            raise InvalidRequest([{"loc": ["body", self.part.name], "type": "string_too_long"}])

    def end(self) -> None:
        if self.part.upload is None:
            self.texts[self.part.name] = bytes(self.part.data)


def _format(options: dict[bytes, bytes]) -> Literal["csv", "parquet"]:
    suffix = Path(options[b"filename"].decode("utf-8", "replace")).suffix.lower()
    if suffix not in FORMATS:
        raise InvalidRequest(reason="unsupported_file_type")
    return FORMATS[suffix]


async def read_contribution(request: Request, directory: Path) -> ContributionForm:
    """Parse the streaming body into a `ContributionForm` whose file is sealed.

    Raises `UnsupportedMediaType` (not multipart), `InvalidRequest` (a malformed body, a
    missing, extra or invalid part; ``unsupported_file_type`` for a file not named
    ``*.csv`` or ``*.parquet``), or whatever the body limit raises; nothing is left behind.
    """
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        raise UnsupportedMediaType(reason="multipart_required")
    form = _Form(directory)
    try:
        parser = MultipartParser(options[b"boundary"], form.callbacks())  # type: ignore[arg-type]
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
        return _complete(form)
    except FormParserError:
        _discard(form)
        raise InvalidRequest([{"loc": ["body"], "type": "multipart_invalid"}]) from None
    except BaseException:
        _discard(form)
        raise


def _complete(form: _Form) -> ContributionForm:
    missing = [n for n, v in (("table", form.table), ("file", form.upload)) if v is None]
    if missing:
        raise InvalidRequest([{"loc": ["body", n], "type": "missing"} for n in missing])
    table = (form.table or b"").decode("utf-8", "replace")
    if not TABLE.fullmatch(table):
        raise InvalidRequest([{"loc": ["body", "table"], "type": "string_pattern_mismatch"}])
    assert form.upload is not None
    form.upload.seal()
    signature = form.texts.get("signature")
    return ContributionForm(table, form.upload, form.texts.get("statement"),
                            signature.decode("ascii", "replace") if signature is not None else None)  # fmt: skip


def _discard(form: _Form) -> None:
    if form.upload is not None:
        form.upload.close()
