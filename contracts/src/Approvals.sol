// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Roles} from "./Roles.sol";

/// @title Approvals: access requests that m of n distinct officers must vote for.
/// @notice An approval binds a requester, a computation and its content hash, a purpose,
///         a scope, a validity window and a quota. It becomes Approved at the threshold in
///         force when it was requested; one officer's rejection ends it; an officer may
///         revoke it at any time; past `validUntil` it reads as Expired.
abstract contract Approvals is Roles {
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

    event ApprovalRequested(bytes32 indexed id, bytes32 indexed requester, address by);
    event ApprovalVoted(bytes32 indexed id, address indexed officer, uint8 votes);
    event ApprovalGranted(bytes32 indexed id);
    event ApprovalRejected(bytes32 indexed id, address indexed officer, uint16 reason);
    event ApprovalRevoked(bytes32 indexed id, address indexed officer, uint16 reason);
    event ThresholdChanged(uint8 threshold);

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

    /// @notice One officer's vote; the threshold-th distinct vote approves.
    function vote(bytes32 id) external only(Role.Officer) {
        Approval storage a = _pending(id);
        if (hasVoted[id][msg.sender]) revert AlreadyVoted(id, msg.sender);
        hasVoted[id][msg.sender] = true;
        a.votes += 1;
        emit ApprovalVoted(id, msg.sender, a.votes);
        if (a.votes >= a.threshold) {
            a.status = Status.Approved;
            emit ApprovalGranted(id);
        }
    }

    /// @notice One officer's rejection ends a pending request.
    function reject(bytes32 id, uint16 reason) external only(Role.Officer) {
        Approval storage a = _pending(id);
        a.status = Status.Rejected;
        a.reason = reason;
        emit ApprovalRejected(id, msg.sender, reason);
    }

    /// @notice Revoke a pending or approved request (consent withdrawn, misuse, ...).
    function revokeApproval(bytes32 id, uint16 reason) external only(Role.Officer) {
        Approval storage a = _approvals[id];
        Status s = _status(a);
        if (s != Status.Pending && s != Status.Approved) revert NotRevocable(id, s);
        a.status = Status.Revoked;
        a.reason = reason;
        emit ApprovalRevoked(id, msg.sender, reason);
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
