// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Roles} from "./Roles.sol";
import {Approvals} from "./Approvals.sol";
import {ModelRegistry} from "./ModelRegistry.sol";
import {WitnessSet} from "./WitnessSet.sol";

/// @title DexinLedger: roles, officers' keys, anchors, approvals, model releases, witnesses.
/// @notice Deployed once per chain; the deployer becomes the first admin.
contract DexinLedger is Approvals, ModelRegistry, WitnessSet {
    constructor() Roles(msg.sender) {}

    function _afterOfficerCountChange() internal view override(Approvals, Roles) {
        Approvals._afterOfficerCountChange();
    }
}
