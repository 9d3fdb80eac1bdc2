// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";
import {Roles} from "./Roles.sol";

/// @title OfficerKeys: the passkeys (P-256 public keys) that speak for officers.
/// @notice An officer's identity on the ledger is an address holding the Officer role that
///         nobody needs a private key for: it acts only through the credentials registered
///         here. Each credential is registered once, by an admin, with who invited the officer;
///         it is never overwritten (a new key is a new credential, in a new event), so nobody
///         can swap an officer's key unseen. A revoked credential stays revoked.
abstract contract OfficerKeys is Roles {
    struct OfficerKey {
        address officer;
        bytes32 x;
        bytes32 y;
        bytes32 invitedBy;
        address registeredBy;
        uint64 registeredAt;
        bool revoked;
    }

    error UnknownOfficerKey(bytes32 credential);
    error OfficerKeyExists(bytes32 credential);
    error InvalidOfficerKey(bytes32 credential);
    error OfficerKeyRevoked(bytes32 credential);

    event OfficerKeyRegistered(
        bytes32 indexed credential, address indexed officer, bytes32 x, bytes32 y, bytes32 invitedBy, address by
    );
    event OfficerKeyRevocation(bytes32 indexed credential, address indexed officer, address by);

    mapping(bytes32 => OfficerKey) private _officerKeys;

    /// @notice Register `credential` (SHA-256 of the WebAuthn credential id) as `officer`'s
    ///         key (x, y on P-256). Admin only; the officer must hold the Officer role.
    function registerOfficerKey(bytes32 credential, address officer, bytes32 x, bytes32 y, bytes32 invitedBy)
        external
        only(Role.Admin)
    {
        if (roleOf[officer] != Role.Officer) revert MissingRole(officer, Role.Officer);
        if (_officerKeys[credential].officer != address(0)) revert OfficerKeyExists(credential);
        if (credential == bytes32(0) || !P256.isValidPublicKey(x, y)) revert InvalidOfficerKey(credential);
        _officerKeys[credential] = OfficerKey(officer, x, y, invitedBy, msg.sender, uint64(block.number), false);
        emit OfficerKeyRegistered(credential, officer, x, y, invitedBy, msg.sender);
    }

    /// @notice Revoke a credential for good (a lost device, an officer who left).
    function revokeOfficerKey(bytes32 credential) external only(Role.Admin) {
        OfficerKey storage k = _officerKeys[credential];
        if (k.officer == address(0)) revert UnknownOfficerKey(credential);
        if (k.revoked) revert OfficerKeyRevoked(credential);
        k.revoked = true;
        emit OfficerKeyRevocation(credential, k.officer, msg.sender);
    }

    /// @notice The registered key `credential`; reverts UnknownOfficerKey.
    function officerKey(bytes32 credential) external view returns (OfficerKey memory k) {
        k = _officerKeys[credential];
        if (k.officer == address(0)) revert UnknownOfficerKey(credential);
    }

    /// @dev The live key of `credential`, whose officer still holds the Officer role.
    function _liveOfficerKey(bytes32 credential) internal view returns (OfficerKey storage k) {
        k = _officerKeys[credential];
        if (k.officer == address(0)) revert UnknownOfficerKey(credential);
        if (k.revoked) revert OfficerKeyRevoked(credential);
        if (roleOf[k.officer] != Role.Officer) revert MissingRole(k.officer, Role.Officer);
    }
}
