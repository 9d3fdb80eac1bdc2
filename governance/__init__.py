"""The governance core: access requests and m-of-n approvals, consents and the anchored
consent log, quotas, privacy budgets, the computation catalogue, credentials and signing
keys, the audit trail as the gateway appends to it, "who accessed me", witnessing rounds,
the control-plane models, database and migrations, and the use cases every edge shares
(`score_subject`, `release_aggregate`, ...). It imports no FastAPI, no ``dexin`` and no
``query_gateway``. Other packages import the names below from ``governance`` itself.

Names resolve lazily (PEP 562), so importing the package costs nothing until a name is
used: the CLI answers ``--help`` at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from governance.accesses import AccessIndex as AccessIndex
    from governance.accounts import ConsoleAccounts as ConsoleAccounts
    from governance.accounts import LoginFailed as LoginFailed
    from governance.accounts import request_unlock as request_unlock
    from governance.aggregates import AggregateQuery as AggregateQuery
    from governance.aggregates import AggregateRelease as AggregateRelease
    from governance.aggregates import AggregateSource as AggregateSource
    from governance.aggregates import VaultAggregates as VaultAggregates
    from governance.aggregates import release_aggregate as release_aggregate
    from governance.anchoring import GATEWAY_LABEL as GATEWAY_LABEL
    from governance.anchoring import LedgerAnchorer as LedgerAnchorer
    from governance.anchoring import ProviderKeys as ProviderKeys
    from governance.anchoring import anchor_pending as anchor_pending
    from governance.anchoring import anchor_receipt as anchor_receipt
    from governance.anchoring import provider_keys as provider_keys
    from governance.anchoring import receipt_document as receipt_document
    from governance.anchoring import register_witness as register_witness
    from governance.anchoring import signed_receipt as signed_receipt
    from governance.anchoring import unanchored_contributions as unanchored_contributions
    from governance.anchoring import unanchored_receipts as unanchored_receipts
    from governance.anchoring import verify_contributions as verify_contributions
    from governance.answer_signatures import ANSWER_TYPE as ANSWER_TYPE
    from governance.answer_signatures import SignedAnswer as SignedAnswer
    from governance.answer_signatures import answer_signature_problems as answer_signature_problems
    from governance.answer_signatures import answer_statement as answer_statement
    from governance.approvals import Approvals as Approvals
    from governance.approvals import status_now as status_now
    from governance.attachments import MEDIA_TYPES as MEDIA_TYPES
    from governance.attachments import Attachment as Attachment
    from governance.attachments import Sealer as Sealer
    from governance.attachments import check_attachment as check_attachment
    from governance.attachments import parse_attachment as parse_attachment
    from governance.audit_sources import policy_from_engine as policy_from_engine
    from governance.audit_sources import sourced_policy as sourced_policy
    from governance.audit_trail import AuditAppendError as AuditAppendError
    from governance.audit_trail import AuditSink as AuditSink
    from governance.audit_trail import AuditTrail as AuditTrail
    from governance.audit_trail import append_durably as append_durably
    from governance.audit_trail import make_entry as make_entry
    from governance.budget import remaining_epsilon as remaining_epsilon
    from governance.catalogue import PURPOSES as PURPOSES
    from governance.catalogue import Purpose as Purpose
    from governance.catalogue import load_catalogue as load_catalogue
    from governance.client_auth import IssuedToken as IssuedToken
    from governance.client_auth import TokenRequest as TokenRequest
    from governance.client_auth import issue_client_token as issue_client_token
    from governance.client_keys import ALGORITHMS as ALGORITHMS
    from governance.client_keys import ASSERTION_TYPE as ASSERTION_TYPE
    from governance.client_keys import KeyRefused as KeyRefused
    from governance.client_keys import PublicKey as PublicKey
    from governance.client_keys import parse_jwks as parse_jwks
    from governance.client_keys import public_key as public_key
    from governance.client_keys import verify_assertion as verify_assertion
    from governance.config import GatewaySettings as GatewaySettings
    from governance.config import OidcSettings as OidcSettings
    from governance.consent_evidence import EvidenceFinding as EvidenceFinding
    from governance.consent_evidence import check_consent_evidence as check_consent_evidence
    from governance.consent_log import ConsentLog as ConsentLog
    from governance.consent_log import subject_digest as subject_digest
    from governance.consents import consent_status as consent_status
    from governance.consents import covered_computations as covered_computations
    from governance.consents import grant_consent as grant_consent
    from governance.consents import offered_computations as offered_computations
    from governance.consents import withdraw_consent as withdraw_consent
    from governance.contribution_signatures import STATEMENT_TYPE as STATEMENT_TYPE
    from governance.contribution_signatures import SignedContribution as SignedContribution
    from governance.contributions import RefusedContribution as RefusedContribution
    from governance.contributions import accept_contribution as accept_contribution
    from governance.control import ControlPlane as ControlPlane
    from governance.control import NewClient as NewClient
    from governance.control import utcnow as utcnow
    from governance.credentials import CLIENT_ROLES as CLIENT_ROLES
    from governance.credentials import KEYED_ROLES as KEYED_ROLES
    from governance.credentials import Principal as Principal
    from governance.credentials import Role as Role
    from governance.credentials import derive_keys as derive_keys
    from governance.credentials import hkdf as hkdf
    from governance.credentials import issue_token as issue_token
    from governance.credentials import open_token as open_token
    from governance.db import advisory_lock as advisory_lock
    from governance.db import migrate as migrate
    from governance.db import open_engine as open_engine
    from governance.db import session_factory as session_factory
    from governance.dispute_answers import answer_dispute as answer_dispute
    from governance.dispute_answers import correct_dispute as correct_dispute
    from governance.dispute_audit import DeadlineFinding as DeadlineFinding
    from governance.dispute_audit import dispute_deadlines as dispute_deadlines
    from governance.dispute_log import DisputeLog as DisputeLog
    from governance.dispute_log import RowChange as RowChange
    from governance.disputes import DISPUTE_DAYS as DISPUTE_DAYS
    from governance.disputes import DisputeDesk as DisputeDesk
    from governance.disputes import DisputeDraft as DisputeDraft
    from governance.disputes import DisputeView as DisputeView
    from governance.disputes import attachment_of as attachment_of
    from governance.disputes import dispute_desk as dispute_desk
    from governance.disputes import dispute_detail as dispute_detail
    from governance.disputes import dispute_list as dispute_list
    from governance.disputes import disputes_of as disputes_of
    from governance.disputes import escalate_overdue as escalate_overdue
    from governance.disputes import file_dispute as file_dispute
    from governance.dpop import access_token_hash as access_token_hash
    from governance.dpop import verify_proof as verify_proof
    from governance.errors import AuditUnavailable as AuditUnavailable
    from governance.errors import BudgetExhausted as BudgetExhausted
    from governance.errors import Conflict as Conflict
    from governance.errors import ContributionRefused as ContributionRefused
    from governance.errors import GatewayError as GatewayError
    from governance.errors import InvalidClient as InvalidClient
    from governance.errors import InvalidDPoPProof as InvalidDPoPProof
    from governance.errors import InvalidRequest as InvalidRequest
    from governance.errors import InvalidTokenRequest as InvalidTokenRequest
    from governance.errors import MethodNotAllowed as MethodNotAllowed
    from governance.errors import NotFound as NotFound
    from governance.errors import PayloadTooLarge as PayloadTooLarge
    from governance.errors import PolicyDenied as PolicyDenied
    from governance.errors import QuotaExhausted as QuotaExhausted
    from governance.errors import RateLimited as RateLimited
    from governance.errors import ServiceUnavailable as ServiceUnavailable
    from governance.errors import SignatureRefused as SignatureRefused
    from governance.errors import Unauthenticated as Unauthenticated
    from governance.errors import UnsupportedGrant as UnsupportedGrant
    from governance.errors import UnsupportedMediaType as UnsupportedMediaType
    from governance.errors import WrongRole as WrongRole
    from governance.households import MEMBER_ACTION as MEMBER_ACTION
    from governance.idempotency import REPLAY_REASON as REPLAY_REASON
    from governance.idempotency import IdempotentAnswers as IdempotentAnswers
    from governance.idempotency import StoredAnswer as StoredAnswer
    from governance.idempotency import audit_answer as audit_answer
    from governance.idempotency import audit_replay as audit_replay
    from governance.idempotency import fingerprint as fingerprint
    from governance.idempotency import idempotency_key as idempotency_key
    from governance.identity import EvidenceRejected as EvidenceRejected
    from governance.identity import VerifiedEvidence as VerifiedEvidence
    from governance.identity import grant_terms as grant_terms
    from governance.identity import terms_digest as terms_digest
    from governance.identity import verify_evidence as verify_evidence
    from governance.identity import withdrawal_terms as withdrawal_terms
    from governance.ids import has_digit_run as has_digit_run
    from governance.ids import loggable as loggable
    from governance.ids import new_id as new_id
    from governance.key_registry import KeyRecord as KeyRecord
    from governance.key_registry import KeyRegistry as KeyRegistry
    from governance.log_context import REQUEST_ID as REQUEST_ID
    from governance.login_guard import AccountEvent as AccountEvent
    from governance.login_guard import AccountLocked as AccountLocked
    from governance.login_guard import AccountLockedOut as AccountLockedOut
    from governance.login_guard import LoginBusy as LoginBusy
    from governance.login_guard import LoginGuard as LoginGuard
    from governance.login_guard import LoginPolicy as LoginPolicy
    from governance.login_guard import LoginThrottled as LoginThrottled
    from governance.metrics import Metrics as Metrics
    from governance.metrics import Watched as Watched
    from governance.model_runs import find_release as find_release
    from governance.model_runs import release_spec as release_spec
    from governance.model_runs import score_all as score_all
    from governance.model_runs import score_person as score_person
    from governance.models import AccessRequest as AccessRequest
    from governance.models import Consent as Consent
    from governance.passkeys import create_invite as create_invite
    from governance.privacy import release as release
    from governance.quota import QuotaFlusher as QuotaFlusher
    from governance.ratelimit import RateLimiter as RateLimiter
    from governance.relying_party import IdentityProviderUnavailable as IdentityProviderUnavailable
    from governance.relying_party import PendingSignIn as PendingSignIn
    from governance.relying_party import RelyingParty as RelyingParty
    from governance.relying_party import SignedIn as SignedIn
    from governance.repair_signatures import REPAIR_TYPE as REPAIR_TYPE
    from governance.repair_signatures import repair_signature_problems as repair_signature_problems
    from governance.repair_signatures import repair_statement as repair_statement
    from governance.repairs import RepairView as RepairView
    from governance.repairs import apply_repair as apply_repair
    from governance.repairs import decide_repair as decide_repair
    from governance.repairs import file_repair as file_repair
    from governance.repairs import repair_list as repair_list
    from governance.replay import ReplayCache as ReplayCache
    from governance.reports import FREE_PER_YEAR as FREE_PER_YEAR
    from governance.reports import CreditReport as CreditReport
    from governance.reports import RecordLine as RecordLine
    from governance.reports import consent_rows as consent_rows
    from governance.reports import issue_report as issue_report
    from governance.reports import report_counts as report_counts
    from governance.reports import void_issue as void_issue
    from governance.residents import link_resident as link_resident
    from governance.residents import require_evidence as require_evidence
    from governance.residents import subject_of as subject_of
    from governance.reviews import REVIEW_DAYS as REVIEW_DAYS
    from governance.reviews import attest_decision as attest_decision
    from governance.reviews import attestations_of as attestations_of
    from governance.reviews import decide_review as decide_review
    from governance.reviews import open_reviews as open_reviews
    from governance.reviews import request_review as request_review
    from governance.reviews import review_case as review_case
    from governance.reviews import review_clocks as review_clocks
    from governance.reviews import reviews_of as reviews_of
    from governance.rights_models import DecisionAttestation as DecisionAttestation
    from governance.rights_models import RecordStatement as RecordStatement
    from governance.rights_models import ReportIssue as ReportIssue
    from governance.rights_models import ScoreReview as ScoreReview
    from governance.rights_state import RightsState as RightsState
    from governance.row_change_audit import recorded_changes as recorded_changes
    from governance.row_change_audit import row_change_findings as row_change_findings
    from governance.row_change_audit import vault_changes as vault_changes
    from governance.scores import DIMENSIONS as DIMENSIONS
    from governance.scores import SCORE_ACTION as SCORE_ACTION
    from governance.scores import ModelScoreService as ModelScoreService
    from governance.scores import ScoreAnswer as ScoreAnswer
    from governance.scores import ScoreQuery as ScoreQuery
    from governance.scores import ScoreService as ScoreService
    from governance.scores import own_score as own_score
    from governance.scores import score_subject as score_subject
    from governance.services import Services as Services
    from governance.signing import SIGNATURE_HEADER as SIGNATURE_HEADER
    from governance.signing import SignatureError as SignatureError
    from governance.signing import verify_detached as verify_detached
    from governance.signing_keys import SigningKeys as SigningKeys
    from governance.signing_keys import rotate as rotate
    from governance.statements import SHORT_MAX as SHORT_MAX
    from governance.statements import TEXT_MAX as TEXT_MAX
    from governance.statements import StatementDraft as StatementDraft
    from governance.statements import add_statement as add_statement
    from governance.statements import statements_of as statements_of
    from governance.statements import withdraw_statement as withdraw_statement
    from governance.votes import AccessRequestDraft as AccessRequestDraft
    from governance.votes import cast_vote as cast_vote
    from governance.votes import decision_challenge as decision_challenge
    from governance.votes import file_request as file_request
    from governance.votes import revoke_approval as revoke_approval
    from governance.witnessing import SubmitRefused as SubmitRefused
    from governance.witnessing import Witnessing as Witnessing

_WHERE = {
    "verify_assertion": "governance.client_keys",
    "subject_digest": "governance.consent_log",
    "EvidenceFinding": "governance.consent_evidence",
    "check_consent_evidence": "governance.consent_evidence",
    "covered_computations": "governance.consents",
    "hkdf": "governance.credentials",
    "subject_of": "governance.residents",
    "require_evidence": "governance.residents",
    "link_resident": "governance.residents",
    "AccessIndex": "governance.accesses",
    "ALGORITHMS": "governance.client_keys",
    "ASSERTION_TYPE": "governance.client_keys",
    "AccessRequest": "governance.models",
    "AccessRequestDraft": "governance.votes",
    "AccountEvent": "governance.login_guard",
    "AccountLocked": "governance.login_guard",
    "AccountLockedOut": "governance.login_guard",
    "AggregateQuery": "governance.aggregates",
    "AggregateRelease": "governance.aggregates",
    "AggregateSource": "governance.aggregates",
    "Approvals": "governance.approvals",
    "AuditAppendError": "governance.audit_trail",
    "AuditSink": "governance.audit_trail",
    "AuditTrail": "governance.audit_trail",
    "AuditUnavailable": "governance.errors",
    "BudgetExhausted": "governance.errors",
    "CLIENT_ROLES": "governance.credentials",
    "Conflict": "governance.errors",
    "Consent": "governance.models",
    "ConsentLog": "governance.consent_log",
    "ConsoleAccounts": "governance.accounts",
    "ContributionRefused": "governance.errors",
    "ControlPlane": "governance.control",
    "DIMENSIONS": "governance.scores",
    "EvidenceRejected": "governance.identity",
    "GATEWAY_LABEL": "governance.anchoring",
    "GatewayError": "governance.errors",
    "GatewaySettings": "governance.config",
    "IdentityProviderUnavailable": "governance.relying_party",
    "InvalidClient": "governance.errors",
    "InvalidDPoPProof": "governance.errors",
    "InvalidRequest": "governance.errors",
    "InvalidTokenRequest": "governance.errors",
    "IssuedToken": "governance.client_auth",
    "KEYED_ROLES": "governance.credentials",
    "KeyRecord": "governance.key_registry",
    "KeyRefused": "governance.client_keys",
    "KeyRegistry": "governance.key_registry",
    "LedgerAnchorer": "governance.anchoring",
    "LoginBusy": "governance.login_guard",
    "LoginFailed": "governance.accounts",
    "LoginGuard": "governance.login_guard",
    "LoginPolicy": "governance.login_guard",
    "LoginThrottled": "governance.login_guard",
    "MEMBER_ACTION": "governance.households",
    "MethodNotAllowed": "governance.errors",
    "Metrics": "governance.metrics",
    "ModelScoreService": "governance.scores",
    "NewClient": "governance.control",
    "NotFound": "governance.errors",
    "OidcSettings": "governance.config",
    "PURPOSES": "governance.catalogue",
    "PayloadTooLarge": "governance.errors",
    "PendingSignIn": "governance.relying_party",
    "PolicyDenied": "governance.errors",
    "Principal": "governance.credentials",
    "PublicKey": "governance.client_keys",
    "Purpose": "governance.catalogue",
    "QuotaExhausted": "governance.errors",
    "QuotaFlusher": "governance.quota",
    "REQUEST_ID": "governance.log_context",
    "RateLimited": "governance.errors",
    "RateLimiter": "governance.ratelimit",
    "RefusedContribution": "governance.contributions",
    "RelyingParty": "governance.relying_party",
    "ReplayCache": "governance.replay",
    "Role": "governance.credentials",
    "SIGNATURE_HEADER": "governance.signing",
    "ScoreAnswer": "governance.scores",
    "ScoreQuery": "governance.scores",
    "ScoreService": "governance.scores",
    "ServiceUnavailable": "governance.errors",
    "Services": "governance.services",
    "SignatureError": "governance.signing",
    "SignatureRefused": "governance.errors",
    "SignedIn": "governance.relying_party",
    "SigningKeys": "governance.signing_keys",
    "SubmitRefused": "governance.witnessing",
    "TokenRequest": "governance.client_auth",
    "Unauthenticated": "governance.errors",
    "UnsupportedGrant": "governance.errors",
    "UnsupportedMediaType": "governance.errors",
    "VaultAggregates": "governance.aggregates",
    "VerifiedEvidence": "governance.identity",
    "Watched": "governance.metrics",
    "Witnessing": "governance.witnessing",
    "WrongRole": "governance.errors",
    "accept_contribution": "governance.contributions",
    "access_token_hash": "governance.dpop",
    "anchor_pending": "governance.anchoring",
    "anchor_receipt": "governance.anchoring",
    "append_durably": "governance.audit_trail",
    "cast_vote": "governance.votes",
    "consent_status": "governance.consents",
    "create_invite": "governance.passkeys",
    "decision_challenge": "governance.votes",
    "derive_keys": "governance.credentials",
    "file_request": "governance.votes",
    "find_release": "governance.model_runs",
    "grant_consent": "governance.consents",
    "grant_terms": "governance.identity",
    "issue_client_token": "governance.client_auth",
    "issue_token": "governance.credentials",
    "load_catalogue": "governance.catalogue",
    "has_digit_run": "governance.ids",
    "loggable": "governance.ids",
    "make_entry": "governance.audit_trail",
    "migrate": "governance.db",
    "new_id": "governance.ids",
    "offered_computations": "governance.consents",
    "open_engine": "governance.db",
    "advisory_lock": "governance.db",
    "open_token": "governance.credentials",
    "own_score": "governance.scores",
    "parse_jwks": "governance.client_keys",
    "policy_from_engine": "governance.audit_sources",
    "public_key": "governance.client_keys",
    "register_witness": "governance.anchoring",
    "release": "governance.privacy",
    "release_aggregate": "governance.aggregates",
    "release_spec": "governance.model_runs",
    "remaining_epsilon": "governance.budget",
    "request_unlock": "governance.accounts",
    "revoke_approval": "governance.votes",
    "rotate": "governance.signing_keys",
    "score_all": "governance.model_runs",
    "score_person": "governance.model_runs",
    "score_subject": "governance.scores",
    "session_factory": "governance.db",
    "sourced_policy": "governance.audit_sources",
    "status_now": "governance.approvals",
    "terms_digest": "governance.identity",
    "unanchored_contributions": "governance.anchoring",
    "unanchored_receipts": "governance.anchoring",
    "utcnow": "governance.control",
    "verify_contributions": "governance.anchoring",
    "verify_detached": "governance.signing",
    "verify_evidence": "governance.identity",
    "verify_proof": "governance.dpop",
    "withdraw_consent": "governance.consents",
    "withdrawal_terms": "governance.identity",
    "FREE_PER_YEAR": "governance.reports",
    "CreditReport": "governance.reports",
    "RecordLine": "governance.reports",
    "consent_rows": "governance.reports",
    "issue_report": "governance.reports",
    "report_counts": "governance.reports",
    "void_issue": "governance.reports",
    "REVIEW_DAYS": "governance.reviews",
    "attest_decision": "governance.reviews",
    "attestations_of": "governance.reviews",
    "decide_review": "governance.reviews",
    "open_reviews": "governance.reviews",
    "request_review": "governance.reviews",
    "review_case": "governance.reviews",
    "review_clocks": "governance.reviews",
    "reviews_of": "governance.reviews",
    "DecisionAttestation": "governance.rights_models",
    "RecordStatement": "governance.rights_models",
    "ReportIssue": "governance.rights_models",
    "ScoreReview": "governance.rights_models",
    "RightsState": "governance.rights_state",
    "SHORT_MAX": "governance.statements",
    "TEXT_MAX": "governance.statements",
    "StatementDraft": "governance.statements",
    "add_statement": "governance.statements",
    "statements_of": "governance.statements",
    "withdraw_statement": "governance.statements",
    "Attachment": "governance.attachments",
    "MEDIA_TYPES": "governance.attachments",
    "Sealer": "governance.attachments",
    "check_attachment": "governance.attachments",
    "parse_attachment": "governance.attachments",
    "ANSWER_TYPE": "governance.answer_signatures",
    "SignedAnswer": "governance.answer_signatures",
    "answer_signature_problems": "governance.answer_signatures",
    "answer_statement": "governance.answer_signatures",
    "REPAIR_TYPE": "governance.repair_signatures",
    "repair_signature_problems": "governance.repair_signatures",
    "repair_statement": "governance.repair_signatures",
    "answer_dispute": "governance.dispute_answers",
    "correct_dispute": "governance.dispute_answers",
    "DeadlineFinding": "governance.dispute_audit",
    "dispute_deadlines": "governance.dispute_audit",
    "DisputeLog": "governance.dispute_log",
    "RowChange": "governance.dispute_log",
    "recorded_changes": "governance.row_change_audit",
    "row_change_findings": "governance.row_change_audit",
    "vault_changes": "governance.row_change_audit",
    "DISPUTE_DAYS": "governance.disputes",
    "DisputeDesk": "governance.disputes",
    "DisputeDraft": "governance.disputes",
    "DisputeView": "governance.disputes",
    "attachment_of": "governance.disputes",
    "dispute_desk": "governance.disputes",
    "dispute_detail": "governance.disputes",
    "dispute_list": "governance.disputes",
    "disputes_of": "governance.disputes",
    "escalate_overdue": "governance.disputes",
    "file_dispute": "governance.disputes",
    "RepairView": "governance.repairs",
    "apply_repair": "governance.repairs",
    "decide_repair": "governance.repairs",
    "file_repair": "governance.repairs",
    "repair_list": "governance.repairs",
    "IdempotentAnswers": "governance.idempotency",
    "REPLAY_REASON": "governance.idempotency",
    "SCORE_ACTION": "governance.scores",
    "StoredAnswer": "governance.idempotency",
    "audit_answer": "governance.idempotency",
    "audit_replay": "governance.idempotency",
    "fingerprint": "governance.idempotency",
    "idempotency_key": "governance.idempotency",
    "ProviderKeys": "governance.anchoring",
    "STATEMENT_TYPE": "governance.contribution_signatures",
    "SignedContribution": "governance.contribution_signatures",
    "provider_keys": "governance.anchoring",
    "receipt_document": "governance.anchoring",
    "signed_receipt": "governance.anchoring",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value
