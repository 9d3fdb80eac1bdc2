"""An approval's scope: which values of a computation's scoped inputs it allows.

A scope maps each scoped input (`Computation.scoped`) to one allowed value or a list of
them: ``{"town": "T01"}``, ``{"town": ["T01", "T02"]}``. Its canonical form keeps a single
value as a string and several as a sorted list without repeats; that form is stored, shown
to officers and hashed onto the ledger with `scope_digest` (SHA-256 of its RFC 8785
canonical JSON; ``{}`` when there is no scope), so an auditor can recompute the digest from
the stored scope and tell if the operator swapped it.

Deny by default: at filing, a scope must name every scoped input and nothing else, with
values of the declared format (`check_scope`); at every call, each parameter must be a
free input or have a value the scope allows (`require_within`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence

import rfc8785

from governance.catalogue import Computation
from governance.errors import InvalidRequest, PolicyDenied

__all__ = ["ScopeValue", "allowed_values", "check_parameters", "check_scope",
           "legacy_scope_digest", "normalise_scope", "require_within", "scope_digest"]  # fmt: skip

ScopeValue = str | list[str]


def normalise_scope(
    scope: Mapping[str, str | Sequence[str]] | None,
) -> dict[str, ScopeValue] | None:
    """The canonical form: None or ``{}`` stay as given, one value as a string, several as
    a sorted list without repeats."""
    if scope is None:
        return None
    canonical: dict[str, ScopeValue] = {}
    for name, value in scope.items():
        values = sorted({value} if isinstance(value, str) else set(value))
        canonical[name] = values[0] if len(values) == 1 else values
    return canonical


def scope_digest(scope: Mapping[str, ScopeValue] | None) -> bytes:
    """SHA-256 of the RFC 8785 canonical JSON of the (canonical) scope; ``{}`` for None."""
    return hashlib.sha256(rfc8785.dumps(dict(scope or {}))).digest()


def legacy_scope_digest(scope: Mapping[str, ScopeValue] | None) -> bytes:
    """The digest approvals filed before `scope_digest` anchored (SHA-256 of Python's repr of
    the sorted items): the verifier accepts it for those approvals."""
    return hashlib.sha256(repr(sorted((scope or {}).items())).encode()).digest()


def allowed_values(scope: Mapping[str, ScopeValue] | None, name: str) -> frozenset[str]:
    """The values of input ``name`` the scope allows (none if it does not name it)."""
    value = (scope or {}).get(name)
    if value is None:
        return frozenset()
    return frozenset([value] if isinstance(value, str) else value)


def check_scope(computation: Computation, scope: Mapping[str, ScopeValue] | None) -> None:
    """Raise `InvalidRequest` unless the scope fits the computation: ``scope_unknown_parameter``
    (it names an input that is not scoped), ``scope_incomplete`` (a scoped input is missing),
    ``scope_invalid_value`` (a value not of the input's declared format)."""
    named = set(scope or {})
    if not named <= set(computation.scoped):
        raise InvalidRequest(reason="scope_unknown_parameter")
    if named != set(computation.scoped):
        raise InvalidRequest(reason="scope_incomplete")
    for name in named:
        if not all(_well_formed(computation, name, v) for v in allowed_values(scope, name)):
            raise InvalidRequest(reason="scope_invalid_value")


def check_parameters(computation: Computation, parameters: Mapping[str, str]) -> None:
    """Raise `InvalidRequest` unless the call names exactly the computation's inputs
    (``parameters_mismatch``), each of its declared format (``parameter_invalid``)."""
    if set(parameters) != set(computation.inputs):
        raise InvalidRequest(reason="parameters_mismatch")
    if not all(_well_formed(computation, n, v) for n, v in parameters.items()):
        raise InvalidRequest(reason="parameter_invalid")


def require_within(
    computation: Computation, scope: Mapping[str, ScopeValue] | None, parameters: Mapping[str, str]
) -> None:
    """Raise `PolicyDenied` (``outside_scope``) unless every parameter is a free input or has
    a value the approval's scope allows."""
    for name, value in parameters.items():
        if name not in computation.free and value not in allowed_values(scope, name):
            raise PolicyDenied("outside_scope")


def _well_formed(computation: Computation, name: str, value: str) -> bool:
    pattern = computation.formats.get(name)
    return pattern is None or re.fullmatch(pattern, value) is not None
