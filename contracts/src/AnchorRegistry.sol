// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Roles} from "./Roles.sol";

/// @title AnchorRegistry: Merkle roots of contributions, log checkpoints and model specs.
/// @notice Only roots and document digests go on chain, never personal data nor a hash of
///         an identifier. A root is anchored once. Storage holds one word per anchor
///         (writer, kind, size, block number); the metadata digest and block time are in
///         the `Anchored` event of that block, which keeps an anchor under 60,000 gas.
abstract contract AnchorRegistry is Roles {
    enum Kind {
        None,
        Contribution,
        ConsentLog,
        AuditLog,
        ModelRelease
    }

    error AlreadyAnchored(bytes32 root);
    error InvalidAnchor(bytes32 root);
    error KindNotWritable(Kind kind);

    event Anchored(
        bytes32 indexed root,
        Kind indexed kind,
        address writer,
        uint64 size,
        bytes32 metadataDigest,
        uint64 time
    );

    /// @dev root => writer (bits 0..159) | kind (160..167) | size (168..207) | block (208..255)
    mapping(bytes32 => uint256) private _anchors;
    /// @dev four 64-bit counters, one per writable kind, packed in one word
    uint256 private _counts;

    /// @notice Anchor `root`. Contributions are written by providers, consent-log and
    ///         audit-log checkpoints by the gateway; model releases go through releaseModel.
    function anchor(Kind kind, bytes32 root, uint64 size, bytes32 metadataDigest) external {
        _require(_writerOf(kind));
        _anchor(kind, root, size, metadataDigest);
    }

    /// @notice The stored word for `root`: kind None means "never anchored".
    function anchorOf(bytes32 root)
        external
        view
        returns (Kind kind, address writer, uint64 size, uint64 blockNumber)
    {
        uint256 word = _anchors[root];
        writer = address(uint160(word));
        kind = Kind(uint8(word >> 160));
        size = uint64(uint40(word >> 168));
        blockNumber = uint64(word >> 208);
    }

    /// @notice Number of anchors of `kind`.
    function anchorCount(Kind kind) external view returns (uint64) {
        if (kind == Kind.None) return 0;
        return uint64(_counts >> (64 * (uint8(kind) - 1)));
    }

    function _anchor(Kind kind, bytes32 root, uint64 size, bytes32 metadataDigest) internal {
        if (root == bytes32(0) || size > type(uint40).max) revert InvalidAnchor(root);
        if (_anchors[root] != 0) revert AlreadyAnchored(root);
        _anchors[root] = uint256(uint160(msg.sender)) | (uint256(kind) << 160)
            | (uint256(size) << 168) | (block.number << 208);
        _counts += uint256(1) << (64 * (uint8(kind) - 1));
        emit Anchored(root, kind, msg.sender, size, metadataDigest, uint64(block.timestamp));
    }

    function _writerOf(Kind kind) private pure returns (Role) {
        if (kind == Kind.Contribution) return Role.Provider;
        if (kind == Kind.ConsentLog || kind == Kind.AuditLog) return Role.Gateway;
        revert KindNotWritable(kind);
    }
}
