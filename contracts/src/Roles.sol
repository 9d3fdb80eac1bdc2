// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Roles: every account holds at most one role.
/// @notice Governance (Admin), operation (Officer, Provider, Gateway) and audit (Auditor)
///         are kept apart by construction: granting a second role to an account reverts.
abstract contract Roles {
    enum Role {
        None,
        Admin,
        Officer,
        Provider,
        Gateway,
        Auditor
    }

    error MissingRole(address account, Role required);
    error RoleConflict(address account, Role held);
    error NoRole(address account);
    error InvalidRole();
    error ZeroAddress();
    error LastAdmin(address account);

    event RoleGranted(address indexed account, Role role, address indexed by);
    event RoleRevoked(address indexed account, Role role, address indexed by);

    mapping(address => Role) public roleOf;
    uint32 public adminCount;
    uint32 public officerCount;

    constructor(address admin) {
        _grant(admin, Role.Admin);
    }

    modifier only(Role role) {
        _require(role);
        _;
    }

    /// @notice Give `account` its one role. Reverts RoleConflict if it already holds one.
    function grantRole(address account, Role role) external only(Role.Admin) {
        if (role == Role.None) revert InvalidRole();
        Role held = roleOf[account];
        if (held != Role.None) revert RoleConflict(account, held);
        _grant(account, role);
    }

    /// @notice Take `account`'s role away. The last admin cannot be removed.
    function revokeRole(address account) external only(Role.Admin) {
        Role held = roleOf[account];
        if (held == Role.None) revert NoRole(account);
        if (held == Role.Admin) {
            if (adminCount == 1) revert LastAdmin(account);
            adminCount -= 1;
        }
        delete roleOf[account];
        if (held == Role.Officer) {
            officerCount -= 1;
            _afterOfficerCountChange();
        }
        emit RoleRevoked(account, held, msg.sender);
    }

    function _grant(address account, Role role) private {
        if (account == address(0)) revert ZeroAddress();
        roleOf[account] = role;
        if (role == Role.Admin) adminCount += 1;
        if (role == Role.Officer) officerCount += 1;
        emit RoleGranted(account, role, msg.sender);
    }

    function _require(Role role) internal view {
        if (roleOf[msg.sender] != role) revert MissingRole(msg.sender, role);
    }

    /// @dev Hook for rules that depend on the number of officers (the approval threshold).
    function _afterOfficerCountChange() internal view virtual {}
}
