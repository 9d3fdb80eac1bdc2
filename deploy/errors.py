"""One error base for the deployment tooling; every failure names what was expected."""

from __future__ import annotations


class DeployError(Exception):
    """Base of every error the deployment tooling raises."""


class KeyFileError(DeployError):
    """A node key or public key file is missing, malformed, or would be overwritten."""


class NetworkInputError(DeployError):
    """The consortium description or the handed-over public keys do not fit together."""


class CheckFailed(DeployError):
    """A static check of the deployment failed: ``check`` names it, ``expected`` and
    ``actual`` say how (both as text, never a secret)."""

    def __init__(self, check: str, expected: object, actual: object) -> None:
        super().__init__(f"{check}: expected {expected}, found {actual}")
        self.check = check
        self.expected = expected
        self.actual = actual
