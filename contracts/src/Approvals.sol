// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {WebAuthn} from "@openzeppelin/contracts/utils/cryptography/WebAuthn.sol";
import {OfficerKeys} from "./OfficerKeys.sol";

/// @title Approvals: access requests that m of n distinct officers must vote for.
/// @notice An approval binds a requester, a computation and its content hash, a purpose,
///         a scope, a validity window and a quota. It becomes Approved at the threshold in
///         force when it was requested; one officer's rejection ends it; an officer may
///         revoke it at any time; past `validUntil` it reads as Expired.
///
///         Every vote, rejection and revocation carries the officer's WebAuthn assertion over
///         `decisionChallenge(id, decision)`, and this contract verifies it (P-256, the
///         registered key of the credential) before counting it: whoever sends the
///         transaction, only an officer's passkey (or officer-held key) can decide. Votes count
///         per officer, so two credentials of one officer are one vote.
abstract contract Approvals is OfficerKeys {
    enum Status {
        None,
        Pending,
        Approved,
        Rejected,
        Revoked,
        Expired
    }

    struct Terms {
        bytes32 requester;
        bytes32 computationId;
        bytes32 contentHash;
        bytes32 scope;
        uint16 purpose;
        uint32 quota;
        uint64 validFrom;
        uint64 validUntil;
    }

    enum Decision {
        Approve,
        Reject,
        Revoke
    }

    /// @dev A WebAuthn assertion: the authenticator's data, the client data JSON (with the
    ///      indices of its "challenge" and "type" members) and the ES256 signature (r, s),
    ///      s in the lower half of the curve order.
    struct Assertion {
        bytes32 credential;
        bytes authenticatorData;
        string clientDataJSON;
        uint256 challengeIndex;
        uint256 typeIndex;
        bytes32 r;
        bytes32 s;
    }

    struct Approval {
        Terms terms;
        uint8 threshold;
        uint8 votes;
        Status status;
        uint16 reason;
    }

    error UnknownApproval(bytes32 id);
    error ApprovalExists(bytes32 id);
    error InvalidTerms(bytes32 id);
    error NotPending(bytes32 id, Status status);
    error NotRevocable(bytes32 id, Status status);
    error AlreadyVoted(bytes32 id, address officer);
    error ApprovalExpired(bytes32 id, uint64 validUntil);
    error InvalidThreshold(uint8 threshold, uint32 officers);
    error InvalidOfficerSignature(bytes32 id, bytes32 credential);

    event ApprovalRequested(bytes32 indexed id, bytes32 indexed requester, address by);
    event ApprovalVoted(bytes32 indexed id, address indexed officer, uint8 votes);
    event ApprovalGranted(bytes32 indexed id);
    event ApprovalRejected(bytes32 indexed id, address indexed officer, uint16 reason);
    event ApprovalRevoked(bytes32 indexed id, address indexed officer, uint16 reason);
    event ThresholdChanged(uint8 threshold);
    /// @notice The signed decision itself, for anyone to verify again: `digest` is
    ///         SHA-256(authenticatorData || clientDataJSON || r || s).
    event OfficerDecision(
        bytes32 indexed id, address indexed officer, Decision decision, bytes32 digest, Assertion assertion
    );

    uint8 public approvalThreshold = 1;
    mapping(bytes32 => Approval) private _approvals;
    mapping(bytes32 => mapping(address => bool)) public hasVoted;

    /// @notice File a request. Only the gateway (on a requester's behalf) or an officer.
    function requestApproval(bytes32 id, Terms calldata terms) external {
        Role role = roleOf[msg.sender];
        if (role != Role.Gateway && role != Role.Officer) revert MissingRole(msg.sender, Role.Gateway);
        if (_approvals[id].status != Status.None) revert ApprovalExists(id);
        if (id == bytes32(0) || terms.validUntil <= terms.validFrom) revert InvalidTerms(id);
        _approvals[id] = Approval(terms, approvalThreshold, 0, Status.Pending, 0);
        emit ApprovalRequested(id, terms.requester, msg.sender);
    }

    /// @notice One officer's vote, signed; the threshold-th distinct officer's vote approves.
    function vote(bytes32 id, Assertion calldata signed) external {
        Approval storage a = _pending(id);
        address officer = _signedBy(id, Decision.Approve, signed);
        if (hasVoted[id][officer]) revert AlreadyVoted(id, officer);
        hasVoted[id][officer] = true;
        a.votes += 1;
        emit ApprovalVoted(id, officer, a.votes);
        if (a.votes >= a.threshold) {
            a.status = Status.Approved;
            emit ApprovalGranted(id);
        }
    }

    /// @notice One officer's signed rejection ends a pending request.
    function reject(bytes32 id, uint16 reason, Assertion calldata signed) external {
        Approval storage a = _pending(id);
        address officer = _signedBy(id, Decision.Reject, signed);
        a.status = Status.Rejected;
        a.reason = reason;
        emit ApprovalRejected(id, officer, reason);
    }

    /// @notice Revoke a pending or approved request (consent withdrawn, misuse, ...), signed.
    function revokeApproval(bytes32 id, uint16 reason, Assertion calldata signed) external {
        Approval storage a = _approvals[id];
        Status s = _status(a);
        if (s != Status.Pending && s != Status.Approved) revert NotRevocable(id, s);
        address officer = _signedBy(id, Decision.Revoke, signed);
        a.status = Status.Revoked;
        a.reason = reason;
        emit ApprovalRevoked(id, officer, reason);
    }

    /// @notice What an officer signs to decide `id`: SHA-256 of the RFC 8785 (JCS) JSON object
    ///         {"approval","chain","contract","decision","terms"}, every value a string: the
    ///         approval id and SHA-256(abi.encode(terms)) as 0x-prefixed lowercase hex, the chain
    ///         id in decimal, this contract's address in lowercase hex, and the decision
    ///         ("approve", "reject" or "revoke"). Reverts UnknownApproval.
    function decisionChallenge(bytes32 id, Decision decision) public view returns (bytes32) {
        Approval storage a = _approvals[id];
        if (a.status == Status.None) revert UnknownApproval(id);
        bytes memory doc = abi.encodePacked(
            '{"approval":"', Strings.toHexString(uint256(id), 32),
            '","chain":"', Strings.toString(block.chainid),
            '","contract":"', Strings.toHexString(address(this)),
            '","decision":"', _decisionName(decision),
            '","terms":"', Strings.toHexString(uint256(sha256(abi.encode(a.terms))), 32), '"}'
        );
        return sha256(doc);
    }

    /// @notice Set m, the number of distinct officer votes that approve: 1 <= m <= n.
    function setApprovalThreshold(uint8 threshold) external only(Role.Admin) {
        if (threshold == 0 || threshold > officerCount) revert InvalidThreshold(threshold, officerCount);
        approvalThreshold = threshold;
        emit ThresholdChanged(threshold);
    }

    /// @notice The approval with its status as of this block (Expired past validUntil).
    function getApproval(bytes32 id) external view returns (Approval memory a) {
        a = _approvals[id];
        if (a.status == Status.None) revert UnknownApproval(id);
        a.status = _status(_approvals[id]);
    }

    /// @notice True when approved and this block's time is inside the validity window.
    function isValid(bytes32 id) external view returns (bool) {
        Approval storage a = _approvals[id];
        return _status(a) == Status.Approved && block.timestamp >= a.terms.validFrom;
    }

    /// @dev The officer whose live key signed `decision` on `id`; only the gateway or an
    ///      officer's own account may send it. Requires user presence and verification.
    function _signedBy(bytes32 id, Decision decision, Assertion calldata signed) private returns (address) {
        Role role = roleOf[msg.sender];
        if (role != Role.Gateway && role != Role.Officer) revert MissingRole(msg.sender, Role.Gateway);
        OfficerKey storage k = _liveOfficerKey(signed.credential);
        WebAuthn.WebAuthnAuth memory auth = WebAuthn.WebAuthnAuth({
            r: signed.r,
            s: signed.s,
            challengeIndex: signed.challengeIndex,
            typeIndex: signed.typeIndex,
            authenticatorData: signed.authenticatorData,
            clientDataJSON: signed.clientDataJSON
        });
        bytes memory challenge = abi.encodePacked(decisionChallenge(id, decision));
        if (!WebAuthn.verify(challenge, auth, k.x, k.y, true)) {
            revert InvalidOfficerSignature(id, signed.credential);
        }
        bytes32 digest =
            sha256(abi.encodePacked(signed.authenticatorData, signed.clientDataJSON, signed.r, signed.s));
        emit OfficerDecision(id, k.officer, decision, digest, signed);
        return k.officer;
    }

    function _decisionName(Decision decision) private pure returns (string memory) {
        if (decision == Decision.Approve) return "approve";
        if (decision == Decision.Reject) return "reject";
        return "revoke";
    }

    function _pending(bytes32 id) private view returns (Approval storage a) {
        a = _approvals[id];
        if (a.status == Status.None) revert UnknownApproval(id);
        Status s = _status(a);
        if (s == Status.Expired) revert ApprovalExpired(id, a.terms.validUntil);
        if (s != Status.Pending) revert NotPending(id, s);
    }

    function _status(Approval storage a) private view returns (Status) {
        Status s = a.status;
        bool live = s == Status.Pending || s == Status.Approved;
        if (live && block.timestamp > a.terms.validUntil) return Status.Expired;
        return s;
    }

    function _afterOfficerCountChange() internal view virtual override {
        if (officerCount < approvalThreshold) revert InvalidThreshold(approvalThreshold, officerCount);
    }
}
