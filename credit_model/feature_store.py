"""`FeatureStore`: the materialised feature table held in memory, for long-running processes.

``derived.features`` (one row per resident, `governance.model_runs.score_all`) is read once
into columnar arrays: the subjects' pseudonyms sorted (a binary search finds a row), the
features as one float matrix, the veto flags as one boolean matrix, the coverage counts as
one integer matrix, and the few base columns as Arrow arrays. A look-up is then a few
microseconds and touches neither DuckDB nor its buffer pool; the gateway and the scoring
benchmark use it, while one-shot commands (`dexin model score`) look the row up in DuckDB
(a filtered scan), since reading the whole table to score one person would be slower there.

At scale 1.0 (850,000 residents, 26 features, 3 vetoes, 16 tables) the arrays take about
340 MiB (414 bytes a resident, measured; the features stay float64 so scores stay exact).
The store holds only what the derived table holds (pseudonyms, never ID numbers), inside
the process that already holds the vault's keys. `load` replaces the snapshot in one
assignment, so a look-up racing a refresh sees either the old table or the new one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from credit_model.errors import FeaturesMissingError, FeaturesStaleError
from credit_model.features import BASE_COLUMNS, FeatureRow, ended_columns, ended_tables
from credit_model.spec import ModelSpec
from vault import Registry, load_registry

FEATURES = "features"


class FeatureSource(Protocol):
    """What the store reads from (`vault.Vault`): the credit model never touches DuckDB."""

    def has_derived(self, name: str) -> bool: ...
    def derived_arrow(self, name: str, columns: list[str], order_by: str) -> pa.Table: ...


@dataclass(frozen=True)
class _Snapshot:
    subjects: npt.NDArray[np.bytes_]  # sorted
    base: dict[str, pa.Array]
    values: npt.NDArray[np.float64]  # rows x features
    vetoes: npt.NDArray[np.bool_]  # rows x vetoes
    coverage: npt.NDArray[np.int32]  # rows x tables
    repaired: npt.NDArray[np.int32]  # rows x tables with windows
    lapsed: npt.NDArray[np.int32]  # rows x tables with windows
    households: npt.NDArray[np.bytes_]  # sorted household pseudonyms, one per member
    members: npt.NDArray[np.int64]  # row of each entry of ``households``
    as_of: dt.date | None
    digest: str | None

    def find(self, subject: str) -> int | None:
        key = subject.encode("ascii", "replace")
        i = int(np.searchsorted(self.subjects, key))
        return i if i < len(self.subjects) and self.subjects[i] == key else None


class FeatureStore:
    """The feature table of ``spec`` in memory; `load` it after every refresh. ``registry``
    (the shipped one by default, as for `load_spec`) says which tables have repaired and
    lapsed counts (`features.ended_tables`)."""

    def __init__(self, spec: ModelSpec, registry: Registry | None = None) -> None:
        self._spec = spec
        self._feature_ids = [f.id for f in spec.features]
        self._veto_ids = [v.id for v in spec.vetoes]
        self._tables = list(spec.tables())
        self._ended = list(ended_tables(spec, registry or load_registry()))
        self._snapshot: _Snapshot | None = None

    @property
    def loaded(self) -> bool:
        return self._snapshot is not None

    def __len__(self) -> int:
        return 0 if self._snapshot is None else len(self._snapshot.subjects)

    def load(self, vault: FeatureSource) -> int:
        """Read ``derived.features`` from ``vault``; returns its rows. Raises
        `FeaturesMissingError` if the table was never materialised."""
        if not vault.has_derived(FEATURES):
            raise FeaturesMissingError()
        names = [
            *BASE_COLUMNS,
            "as_of",
            "spec_digest",
            *self._feature_ids,
            *(f"veto_{v}" for v in self._veto_ids),
            *(f"n_{t}" for t in self._tables),
            *(c for t in self._ended for c in ended_columns(t)),
        ]
        table = vault.derived_arrow(FEATURES, names, "subject")  # a score's inputs only
        self._snapshot = self._build(table)
        return len(self._snapshot.subjects)

    def _build(self, table: pa.Table) -> _Snapshot:
        def column(name: str) -> pa.Array:
            return table.column(name).combine_chunks()

        def matrix(names: list[str], dtype: Any) -> Any:
            if not names:
                return np.zeros((table.num_rows, 0), dtype=dtype)
            cols = [
                np.asarray(column(n).to_numpy(zero_copy_only=False), dtype=dtype) for n in names
            ]
            return np.ascontiguousarray(np.column_stack(cols))

        subjects = np.array(column("subject").to_pylist(), dtype="S")
        households = column("household")
        present = np.flatnonzero(~np.asarray(households.is_null().to_numpy(zero_copy_only=False)))
        keys = np.array(households.take(pa.array(present)).to_pylist(), dtype="S")
        order = np.argsort(keys, kind="stable")  # stable: members stay in subject order
        digests = column("spec_digest").unique().to_pylist()
        dates = column("as_of").unique().to_pylist()
        return _Snapshot(
            subjects=subjects,
            base={c: column(c) for c in BASE_COLUMNS if c != "subject"},
            values=matrix(self._feature_ids, np.float64),
            vetoes=matrix([f"veto_{v}" for v in self._veto_ids], np.bool_),
            coverage=matrix([f"n_{t}" for t in self._tables], np.int32),
            repaired=matrix([ended_columns(t)[0] for t in self._ended], np.int32),
            lapsed=matrix([ended_columns(t)[1] for t in self._ended], np.int32),
            households=keys[order],
            members=present[order].astype(np.int64),
            as_of=dates[0] if len(dates) == 1 else None,
            digest=digests[0] if len(digests) == 1 else None,
        )

    def _current(self) -> _Snapshot:
        snap = self._snapshot
        if snap is None:
            raise FeaturesMissingError()
        if len(snap.subjects) and snap.digest != self._spec.digest.hex():
            raise FeaturesStaleError(self._spec.digest.hex(), str(snap.digest))
        return snap

    def _row(self, snap: _Snapshot, i: int, subject: str) -> FeatureRow:
        assert snap.as_of is not None and snap.digest is not None
        values, vetoes, coverage = snap.values[i], snap.vetoes[i], snap.coverage[i]
        # every value below is already of its field's type (numpy scalars converted; the base
        # columns are the table's own): construct without re-validating, on the hot path
        return FeatureRow.model_construct(
            subject=subject,
            **{c: arr[i].as_py() for c, arr in snap.base.items()},
            as_of=snap.as_of,
            spec_digest=snap.digest,
            values={f: float(values[j]) for j, f in enumerate(self._feature_ids)},
            vetoes={v: bool(vetoes[j]) for j, v in enumerate(self._veto_ids)},
            coverage={t: int(coverage[j]) for j, t in enumerate(self._tables)},
            repaired={t: int(snap.repaired[i][j]) for j, t in enumerate(self._ended)},
            lapsed={t: int(snap.lapsed[i][j]) for j, t in enumerate(self._ended)},
        )

    def row(self, subject: str) -> FeatureRow | None:
        """The features of pseudonym ``subject``, or None if no resident has it."""
        snap = self._current()
        i = snap.find(subject)
        return None if i is None else self._row(snap, i, subject)

    def household(self, household: str) -> list[FeatureRow]:
        """Every member of ``household`` (a pseudonym), in subject order; [] if unknown."""
        snap = self._current()
        key = household.encode("ascii", "replace")
        lo = int(np.searchsorted(snap.households, key, side="left"))
        hi = int(np.searchsorted(snap.households, key, side="right"))
        rows = sorted(int(r) for r in snap.members[lo:hi])
        return [self._row(snap, r, snap.subjects[r].decode("ascii")) for r in rows]
