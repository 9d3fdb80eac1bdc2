"""Request and response bodies: frozen, strict (unknown fields refused), bounded.

Separate ``*Create`` (what a caller sends) and ``*Public`` (what the gateway answers)
models. No response model has a field for a raw row, an ID number or a pseudonym, so none
can leave by construction.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

from governance import Consent, Purpose, consent_status, has_digit_run


def _no_digit_run(value: str) -> str:
    """Identifiers and names the gateway issues never hold 17 digits in a row (the shape of a
    resident ID number, which no audit entry may carry): such a value is refused as invalid."""
    if has_digit_run(value):
        raise ValueError("must not contain 17 digits in a row")
    return value


_NO_RUN = AfterValidator(_no_digit_run)
_NO_RUN_DOC = " Never 17 digits in a row."
_NO_RUN_SCHEMA = {"not": {"pattern": "[0-9]{17}"}}  # what `_no_digit_run` refuses
Id = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,8}_[0-9a-f]{16,24}$", max_length=40),
               _NO_RUN, Field(description="A gateway identifier." + _NO_RUN_DOC,
                              json_schema_extra=_NO_RUN_SCHEMA)]  # fmt: skip
Hex64 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
# GB 11643: a region code, a birth date, a sequence number, a check character (the check
# digit itself, a weighted sum mod 11, is the one rule a pattern does not state: 422
# invalid-id-number)
ID_NUMBER_PATTERN = (r"^[1-9][0-9]{5}(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])"
                     r"[0-9]{3}[0-9X]$")  # fmt: skip
IdNumber = Annotated[str, StringConstraints(pattern=ID_NUMBER_PATTERN)]
ShortText = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,32}$"), _NO_RUN,
                      Field(description="A catalogue name." + _NO_RUN_DOC,
                            json_schema_extra=_NO_RUN_SCHEMA)]  # fmt: skip

# RFC 3339 with an offset, in years whose every time, at any offset, `_aware` accepts
TIME_PATTERN = (r"^(200[1-9]|20[1-9][0-9]|21[0-8][0-9]|219[0-8])"
                r"-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
                r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
                r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$")  # fmt: skip


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("a time zone is required (e.g. 2027-06-30T00:00:00Z)")
    if not dt.datetime(2000, 1, 1, tzinfo=dt.UTC) < value < dt.datetime(2200, 1, 1, tzinfo=dt.UTC):
        raise ValueError("out of range")
    return value.astimezone(dt.UTC)


AwareTime = Annotated[dt.datetime, AfterValidator(_aware),
                      Field(json_schema_extra={"pattern": TIME_PATTERN})]  # fmt: skip


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReasonCode(Strict):
    """What holds the score down (never a vague "other"): a veto or a factor; then notes of
    what no longer counts (records repaired, or whose publication window ended)."""

    code: str = Field(pattern=r"^[A-Z]{2}\d{2}$")
    dimension: str
    kind: Literal["veto", "factor", "note"] = "factor"
    en: str | None = None
    zh: str | None = None


class Coverage(Strict):
    """How much of the data the score rests on, without saying which records exist."""

    tables_with_data: int = Field(ge=0)
    tables_total: int = Field(ge=0)


class Dimensions(Strict):
    moral_review: float | None
    law_abiding: float | None
    honesty: float | None
    volunteering: float | None
    virtue: float | None


ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"  # RFC 7523


class TokenForm(Strict):
    """A client-credentials request: a bank or provider authenticates with
    ``client_assertion`` (``private_key_jwt``, RFC 7523) and sends a ``DPoP`` header; other
    clients may send ``client_id`` and ``client_secret`` (docs/api.md)."""

    grant_type: Annotated[str, StringConstraints(min_length=1, max_length=64),
                          Field(json_schema_extra={"enum": ["client_credentials"]})]  # fmt: skip
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    client_secret: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = None
    client_assertion_type: Annotated[
        str, StringConstraints(min_length=1, max_length=128),
        Field(json_schema_extra={"enum": [ASSERTION_TYPE]}),
    ] | None = None  # fmt: skip
    client_assertion: Annotated[str, StringConstraints(min_length=1, max_length=8192)] | None = None
    scope: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None


class TokenPublic(Strict):
    """``token_type`` ``DPoP``: the token is bound to the key of the request's DPoP proof
    and must be sent as ``Authorization: DPoP <token>`` with a fresh proof (RFC 9449)."""

    access_token: str
    token_type: Literal["Bearer", "DPoP"] = "Bearer"
    expires_in: int


class ComputationPublic(Strict):
    id: str
    version: int
    hash: str
    title: str
    privacy: Literal["subject", "aggregate"]
    unit: Literal["person", "household"] | None
    purposes: tuple[str, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


ScopeValues = Annotated[tuple[ShortText, ...], Field(min_length=1, max_length=64)]


class AccessRequestCreate(Strict):
    """``scope``: for each scoped input of the computation (catalogue: ``inputs`` not
    ``free``), the one value or the list of values the approval allows; an aggregate with
    scoped inputs needs one that names each of them and nothing else (422 ``scope_*``)."""

    computation: ShortText
    computation_hash: Hex64
    purpose: Purpose
    valid_until: AwareTime
    quota: int = Field(ge=1, le=10_000_000)
    scope: dict[ShortText, ShortText | ScopeValues] | None = Field(default=None, max_length=8)
    epsilon: float | None = Field(default=None, gt=0, le=10)


class AccessRequestPublic(Strict):
    id: str
    status: Literal["pending", "approved", "rejected", "revoked", "expired"]
    client_id: str
    computation: str
    computation_version: int
    computation_hash: str
    purpose: str
    scope: dict[str, str | list[str]] | None
    quota: int
    used: int
    epsilon: float | None
    epsilon_spent: float
    valid_until: dt.datetime
    threshold: int
    approvals: int
    created_at: dt.datetime


B64Url = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,2048}$")]
InviteToken = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{40,64}$")]


class AssertionResponse(Strict):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    authenticator_data: B64Url = Field(alias="authenticatorData")
    client_data_json: B64Url = Field(alias="clientDataJSON")
    signature: B64Url
    user_handle: B64Url | None = Field(default=None, alias="userHandle")


class AssertionCreate(Strict):
    """A WebAuthn assertion, as ``PublicKeyCredential.toJSON()`` gives it (base64url)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    id: B64Url
    raw_id: B64Url = Field(alias="rawId")
    type: Literal["public-key"]
    response: AssertionResponse
    client_extension_results: dict[str, bool] = Field(default={}, alias="clientExtensionResults")
    authenticator_attachment: Literal["platform", "cross-platform"] | None = Field(
        default=None, alias="authenticatorAttachment"
    )

    def credential(self) -> dict[str, object]:
        """The JSON py_webauthn reads."""
        return self.model_dump(by_alias=True)


class VoteCreate(Strict):
    """An officer's vote, carried by the officer's assertion over its challenge
    (``POST /v1/access-requests/{id}/decision-options`` gives what to sign)."""

    decision: Literal["approve", "reject"]
    assertion: AssertionCreate


class RevocationCreate(Strict):
    assertion: AssertionCreate


class DecisionOptionsCreate(Strict):
    decision: Literal["approve", "reject", "revoke"]


class DecisionOptionsPublic(Strict):
    """The WebAuthn request options to sign a decision with, and the document whose
    RFC 8785 digest is the challenge (a client recomputes it before signing)."""

    options: dict[str, object]
    document: dict[str, str]


class InviteCreate(Strict):
    officer: Id


class InvitePublic(Strict):
    officer: str
    enrol_url: str
    expires_at: dt.datetime


class RegistrationResponse(Strict):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    client_data_json: B64Url = Field(alias="clientDataJSON")
    attestation_object: B64Url = Field(alias="attestationObject")
    transports: list[Annotated[str, StringConstraints(pattern=r"^[a-z-]{1,16}$")]] = Field(
        default=[], max_length=8
    )


class RegistrationCreate(Strict):
    """A WebAuthn registration, as ``PublicKeyCredential.toJSON()`` gives it."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    id: B64Url
    raw_id: B64Url = Field(alias="rawId")
    type: Literal["public-key"]
    response: RegistrationResponse
    client_extension_results: dict[str, bool] = Field(default={}, alias="clientExtensionResults")
    authenticator_attachment: Literal["platform", "cross-platform"] | None = Field(
        default=None, alias="authenticatorAttachment"
    )


class EnrolmentOptionsCreate(Strict):
    invite: InviteToken


class CeremonyPublic(Strict):
    ceremony: str
    options: dict[str, object]


class EnrolmentCreate(Strict):
    invite: InviteToken
    ceremony: Id
    credential: RegistrationCreate


class EnrolmentPublic(Strict):
    officer: str
    credential_id: str
    ledger_tx: str


class SignInCreate(Strict):
    ceremony: Id
    credential: AssertionCreate

    def assertion_json(self) -> dict[str, object]:
        return self.credential.credential()


ComputationId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]


_ID_TOKEN = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
IdToken = Annotated[str, StringConstraints(pattern=_ID_TOKEN, max_length=8192)]
# the same in a header: a line break ending it is the header line's, not the token's
IdTokenHeader = Annotated[str, StringConstraints(pattern=_ID_TOKEN, max_length=8192),
                          BeforeValidator(lambda v: v.rstrip("\r\n") if isinstance(v, str) else v)]  # fmt: skip


class ConsentCreate(Strict):
    """A consent to one bank for one purpose, covering ``computations`` (catalogue ids of
    subject computations offered for the purpose; default: those about the resident alone,
    unit ``person``; a household computation only if named)."""

    bank: Id
    purpose: Purpose
    expires_at: AwareTime
    computations: tuple[ComputationId, ...] | None = Field(
        default=None, min_length=1, max_length=16
    )
    evidence: IdToken | None = Field(
        default=None,
        description="The ID token of the resident's fresh sign-in at the identity provider for "
        "exactly these terms (nonce = SHA-256 of their RFC 8785 JSON; docs/api.md). Required "
        "unless the deployment runs the unsafe development identity provider.",
    )


class ConsentPublic(Strict):
    id: str
    bank: str
    purpose: str
    computations: tuple[str, ...]
    expires_at: dt.datetime
    created_at: dt.datetime
    withdrawn_at: dt.datetime | None
    status: Literal["active", "withdrawn", "expired"]

    @classmethod
    def of(cls, c: Consent) -> ConsentPublic:
        return cls(id=c.id, bank=c.bank_id, purpose=c.purpose, computations=tuple(c.covers),
                   expires_at=c.expires_at, created_at=c.created_at,
                   withdrawn_at=c.withdrawn_at, status=consent_status(c))  # fmt: skip


class ScoreRequest(Strict):
    id_number: IdNumber
    purpose: Purpose
    access_request_id: Id
    consent_id: Id


class AuditRef(Strict):
    index: int
    leaf_hash: str


class StatementNote(Strict):
    """A resident's statement on a record the score used, in the short form they declared
    (征信业管理条例 第十六条): which table and dimension the record belongs to, never the
    record itself."""

    table: str
    dimension: str
    statement: str
    made_on: dt.date


class SignedEnvelope(Strict):
    """What every signed score carries besides the computation's outputs (issue 13, finding
    8): whom it was answered to, under which access request, about whom (``subject_binding``
    = HMAC-SHA256 keyed by the consent id, see docs/api.md), and where it was logged."""

    bank: str
    access_request_id: str
    subject_binding: Hex64
    request_id: str
    audit: AuditRef
    statements: tuple[StatementNote, ...]  # on records this score used (issue 18)
    review_pending: bool  # a human review of the resident's score is open (PIPL Art. 24)
    disputed: bool  # a record it used, or the score, is disputed and not yet answered (Art. 25)


class ScorePublic(SignedEnvelope):
    """The declared outputs of ``morality_credit_score``."""

    computation: str
    computation_version: int
    unit: Literal["person", "household"]
    dimensions: Dimensions | None
    morality_points: float | None
    morality_code: str | None
    credit_line: int | None
    reason_codes: tuple[ReasonCode, ...]
    model: str | None
    computed_at: dt.datetime | None
    coverage: Coverage | None
    no_score_reason: str | None


class HouseholdScorePublic(ScorePublic):
    """The declared outputs of ``household_credit_score``: computed over the applicant and
    the members whose own consent covers it; how many it used and how many scored adults it
    left out, never who."""

    members_used: int = Field(ge=1)
    members_left_out: int = Field(ge=0)


class ProfilePublic(SignedEnvelope):
    """The declared outputs of ``dimension_profile``."""

    computation: str
    computation_version: int
    unit: Literal["person"]
    dimensions: Dimensions | None
    model: str | None
    computed_at: dt.datetime | None
    no_score_reason: str | None


class AggregateCreate(Strict):
    computation: ShortText
    access_request_id: Id
    parameters: dict[ShortText, ShortText] = Field(default_factory=dict, max_length=4)
    epsilon: float = Field(default=0.1, gt=0, le=10)
    preview: bool = False


class CellPublic(Strict):
    """One cell of the declared domain: its noisy count, or ``count`` None and ``suppressed``
    when the noisy count fell below ``min_cell`` (decided on the noisy count, never the true)."""

    group: dict[str, str | int]
    count: int | None
    suppressed: bool


class AggregatePublic(Strict):
    """A preview (``cells`` None) or every cell of the computation's declared domain, in a
    fixed order, empty groups included (docs/api.md, "Aggregates")."""

    computation: str
    computation_version: int
    preview: bool
    cost: float
    epsilon_remaining: float
    sufficient: bool
    cells: list[CellPublic] | None
    min_cell: int
    mechanism: str
    request_id: str


class AccessPublic(Strict):
    at: dt.datetime
    bank: str
    bank_id: str
    computation: str
    purpose: str
    access_request_id: str
    audit_index: int  # the audit-log entry recording this access


class ClientPublic(Strict):
    client_id: str
    name: str
    role: str
    created_at: dt.datetime
    disabled: bool


class RejectionPublic(Strict):
    row: int
    column: str | None
    code: str


class ContributionPublic(Strict):
    contribution_id: str
    provider: str
    table: str
    file_sha256: str
    format: str
    submitted: int
    accepted: int
    rejected: int
    status: str
    refusal: str | None
    merkle_root: str
    schema_digest: str
    received_at: str
    already_loaded: bool
    anchor: str | None
    rejections: list[RejectionPublic]
    # issue 17: who vouches for the rows ("provider": its signed statement; "operator": a
    # load by the operator; None: recorded before signatures), the canonical receipt
    # document anchored with the root, and the gateway's detached JWS over it (None on a
    # refusal's receipt)
    origin: Literal["provider", "operator"] | None = None
    receipt_document: str | None = None
    receipt_signature: str | None = None


class ConsentLogPublic(Strict):
    size: int
    root: str
    last_anchor: str | None


class CosignatureCreate(Strict):
    """A witness's cosignature of a checkpoint: its vkey, the checkpoint's size and its BLS
    signature (base64 of 96 bytes) on ``dexin-cosignature/v1`` + the checkpoint note text."""

    witness: Annotated[str, StringConstraints(max_length=256)]
    size: Annotated[int, Field(ge=1)]
    signature: Annotated[str, StringConstraints(max_length=256)]


class CosignatureAccepted(Strict):
    status: Literal["pending"] = "pending"
    size: int
    witness: str


class WitnessCreate(Strict):
    """A witness to add to the ledger's set: its vkey, its BLS proof of possession (base64 of
    96 bytes) and, optionally, the witness threshold to set afterwards."""

    witness: Annotated[str, StringConstraints(max_length=256)]
    proof_of_possession: Annotated[str, StringConstraints(max_length=256)]
    threshold: Annotated[int, Field(ge=1, le=255)] | None = None


class WitnessSetPublic(Strict):
    epoch: int
    threshold: int
    public_keys: list[str]  # hex, 48 bytes each (BLS12-381 G1)
