// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Roles} from "./Roles.sol";

/// @title WitnessSet: the BLS public keys that cosign audit-log checkpoints.
/// @notice Keys are 48-byte compressed BLS12-381 G1 points (min-pk scheme). The epoch
///         increases on every change, so a cosignature names the set it was checked against.
abstract contract WitnessSet is Roles {
    error InvalidWitnessKey();
    error WitnessExists(bytes32 keyHash);
    error UnknownWitness(bytes32 keyHash);
    error InvalidWitnessThreshold(uint8 threshold, uint256 witnesses);

    event WitnessAdded(bytes32 indexed keyHash, bytes publicKey, uint32 epoch);
    event WitnessRemoved(bytes32 indexed keyHash, uint32 epoch);
    event WitnessThresholdChanged(uint8 threshold, uint32 epoch);

    bytes[] private _keys;
    mapping(bytes32 => uint256) private _position; // index + 1; 0 means absent
    uint32 public witnessEpoch;
    uint8 public witnessThreshold;

    function addWitness(bytes calldata publicKey) external only(Role.Admin) {
        if (publicKey.length != 48) revert InvalidWitnessKey();
        bytes32 h = keccak256(publicKey);
        if (_position[h] != 0) revert WitnessExists(h);
        _keys.push(publicKey);
        _position[h] = _keys.length;
        witnessEpoch += 1;
        emit WitnessAdded(h, publicKey, witnessEpoch);
    }

    /// @notice Remove a witness; the threshold must still be reachable afterwards.
    function removeWitness(bytes32 keyHash) external only(Role.Admin) {
        uint256 pos = _position[keyHash];
        if (pos == 0) revert UnknownWitness(keyHash);
        if (_keys.length - 1 < witnessThreshold) revert InvalidWitnessThreshold(witnessThreshold, _keys.length - 1);
        bytes memory last = _keys[_keys.length - 1];
        _keys[pos - 1] = last;
        _position[keccak256(last)] = pos;
        _keys.pop();
        delete _position[keyHash];
        witnessEpoch += 1;
        emit WitnessRemoved(keyHash, witnessEpoch);
    }

    function setWitnessThreshold(uint8 threshold) external only(Role.Admin) {
        if (threshold > _keys.length) revert InvalidWitnessThreshold(threshold, _keys.length);
        witnessThreshold = threshold;
        witnessEpoch += 1;
        emit WitnessThresholdChanged(threshold, witnessEpoch);
    }

    function witnesses() external view returns (bytes[] memory) {
        return _keys;
    }
}
