// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AnchorRegistry} from "./AnchorRegistry.sol";

/// @title ModelRegistry: published versions of the credit model, by spec hash.
/// @notice Versions of a model strictly increase. Each release also anchors the spec hash
///         (kind ModelRelease), so a spec is released once, whatever the model id.
abstract contract ModelRegistry is AnchorRegistry {
    struct Release {
        bytes32 specHash;
        address officer;
        uint64 time;
    }

    error VersionNotIncreasing(bytes32 modelId, uint32 version, uint32 latest);
    error UnknownRelease(bytes32 modelId, uint32 version);

    event ModelReleased(bytes32 indexed modelId, uint32 version, bytes32 specHash, address officer);

    mapping(bytes32 => mapping(uint32 => Release)) private _releases;
    mapping(bytes32 => uint32) public latestVersion;

    /// @notice Publish `version` of `modelId`; only an officer.
    function releaseModel(bytes32 modelId, uint32 version, bytes32 specHash) external only(Role.Officer) {
        uint32 latest = latestVersion[modelId];
        if (version <= latest) revert VersionNotIncreasing(modelId, version, latest);
        _anchor(Kind.ModelRelease, specHash, 0, keccak256(abi.encode(modelId, version)));
        _releases[modelId][version] = Release(specHash, msg.sender, uint64(block.timestamp));
        latestVersion[modelId] = version;
        emit ModelReleased(modelId, version, specHash, msg.sender);
    }

    function getRelease(bytes32 modelId, uint32 version) external view returns (Release memory r) {
        r = _releases[modelId][version];
        if (r.specHash == bytes32(0)) revert UnknownRelease(modelId, version);
    }
}
