"""Decompression bombs and oversized contributions through the API: refused quickly, before
any row is staged, with a 413 whose ``reason`` names the limit and nothing else; the
upload's form read as it streams (bad forms refused, nothing left open)."""

from __future__ import annotations

import datetime as dt
import io
import os
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from gateway_support import Actors, TestClient, World, auth, signed
from query_gateway.app import create_app

from audit.log import AuditLog
from audit.note import NoteSigner
from governance.audit_trail import AuditTrail
from governance.control import ControlPlane
from governance.credentials import Role
from vault.idnumber import check_char

LIMITS = {"max_rows": 5000, "max_columns": 12, "max_expanded_bytes": 32 << 20,
          "max_upload": 8 << 20, "witness_interval": 0}  # fmt: skip
ID = "33029119800315011" + check_char("33029119800315011")


@pytest.fixture(scope="module")
def limited(
    world: World, control: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Actors]:
    """A second gateway over the session's vault, with small limits."""
    log = AuditLog.open(tmp_path_factory.mktemp("limits") / "audit", NoteSigner.generate("t/log"))
    app = create_app(world.with_gateway(**LIMITS), world.components(audit=AuditTrail(log)))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Actors(client, control, world)


def _debtors(n: int, case_type: pa.Array | None = None) -> pa.Table:
    return pa.table({
        "record_id": pa.array([f"YZX-2024-{i:010d}" for i in range(n)]),
        "id_number": pa.array([ID] * n),
        "listed_date": pa.array([dt.date(2024, 1, 1)] * n, pa.date32()),
        "removed_date": pa.array([None] * n, pa.date32()),
        "amount": pa.array([Decimal("100.00")] * n, pa.decimal128(18, 2)),
        "case_type": case_type if case_type is not None else pa.array(["contract"] * n),
    })  # fmt: skip


def _parquet(table: pa.Table, **options: object) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, **options)  # type: ignore[arg-type]
    return sink.getvalue()


def _submit(a: Actors, name: str, data: bytes) -> tuple[int, dict[str, object], float]:
    _, court = a.token(Role.PROVIDER, "court")
    started = time.monotonic()
    r = a.http.post("/v1/contributions", headers=auth(court),
                    data=signed(court, "dishonest_debtors", data),
                    files={"file": (name, data, "application/octet-stream")})  # fmt: skip
    return r.status_code, r.json(), time.monotonic() - started


def _refused_for(a: Actors, name: str, data: bytes) -> str:
    """Submit, expect a quick 413 naming a limit, nothing recorded; the limit's reason."""
    before = len(a.world.vault.contributions())
    status, body, took = _submit(a, name, data)
    assert (status, body["type"]) == (413, "urn:dexin:problem:payload-too-large"), body
    assert took < 15, f"the refusal took {took:.1f} s"
    assert len(a.world.vault.contributions()) == before
    assert ID not in str(body) and "YZX" not in str(body)
    return str(body["reason"])


def test_a_dictionary_bomb_is_refused_by_its_decoded_size(limited: Actors) -> None:
    """4,000 rows sharing one 1 MiB value: 4 GiB decoded from a file of a few KiB whose
    footer declares about 1 MiB. Before the fix the gateway expanded it all."""
    value = pa.DictionaryArray.from_arrays(pa.array([0] * 4000, pa.int32()), ["c" * (1 << 20)])
    data = _parquet(_debtors(4000, value), compression="zstd")
    assert len(data) < 64 << 10
    reason = _refused_for(limited, "bomb.parquet", data)
    assert reason == "too_many_expanded_bytes"


def test_a_compression_bomb_is_refused_from_its_footer(limited: Actors) -> None:
    value = pa.array(["c" * (1 << 20)] * 40)  # 40 MiB of one byte, zstd, no dictionary
    data = _parquet(_debtors(40, value), compression="zstd", use_dictionary=False)
    assert len(data) < 64 << 10
    assert _refused_for(limited, "bomb.parquet", data) == "too_many_expanded_bytes"


def test_too_many_rows_or_columns_are_refused_from_the_footer(limited: Actors) -> None:
    many = pa.DictionaryArray.from_arrays(pa.array([0] * 200_000, pa.int8()), ["contract"])
    data = _parquet(_debtors(200_000, many), compression="zstd")
    assert _refused_for(limited, "rows.parquet", data) == "too_many_rows"
    wide = _debtors(1)
    for i in range(7):
        wide = wide.append_column(f"extra{i}", pa.array(["x"]))
    assert _refused_for(limited, "wide.parquet", _parquet(wide)) == "too_many_columns"


def test_a_csv_is_refused_by_its_lines(limited: Actors) -> None:
    header = b"record_id,id_number,listed_date,removed_date,amount,case_type\n"
    rows = b"".join(b"YZX-2024-%010d,%s,2024-01-01,,100.00,contract\n" % (i, ID.encode())
                    for i in range(5001))  # fmt: skip
    assert _refused_for(limited, "rows.csv", header + rows) == "too_many_rows"


def _open_uploads(a: Actors) -> list[str]:
    """Files the gateway process holds open under its upload directory (sealed uploads)."""
    directory = str(a.http.app.state.gateway.workdir / "uploads")  # type: ignore[attr-defined]
    held = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(directory):
            held.append(target)
    return held


def test_forms_are_read_as_they_stream_and_bad_ones_refused(limited: Actors) -> None:
    _, court = limited.token(Role.PROVIDER, "court")
    post = limited.http.post
    csv = ("x.csv", b"a,b\n", "text/csv")
    r = post("/v1/contributions", headers=auth(court), files={"file": csv})
    assert (r.status_code, r.json()["errors"]) == (
        422,
        [{"loc": ["body", "table"], "type": "missing"}],
    )
    r = post("/v1/contributions", headers=auth(court), data={"table": "dishonest_debtors"},
             files={"file": csv, "other": csv})  # fmt: skip
    assert (r.status_code, r.json()["errors"][0]["type"]) == (422, "extra_part")
    r = post("/v1/contributions", headers=auth(court), data={"table": "Robert'); DROP"},
             files={"file": csv})  # fmt: skip
    assert r.status_code == 422 and "DROP" not in r.text
    r = post("/v1/contributions", headers=auth(court) | {"content-type": "application/json"},
             content=b"{}")  # fmt: skip
    assert (r.status_code, r.json()["type"]) == (415, "urn:dexin:problem:unsupported-media-type")

    def endless() -> Iterator[bytes]:  # chunked, no Content-Length: counted as it streams
        yield b'--b\r\nContent-Disposition: form-data; name="table"\r\n\r\ndishonest_debtors\r\n'
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.csv"\r\n\r\n'
        for _ in range(10):
            yield b"x" * (1 << 20)

    r = post("/v1/contributions", content=endless(),
             headers=auth(court) | {"content-type": "multipart/form-data; boundary=b"})  # fmt: skip
    assert (r.status_code, r.json()["type"]) == (413, "urn:dexin:problem:payload-too-large")
    assert _open_uploads(limited) == []  # every sealed upload closed, refused or not
