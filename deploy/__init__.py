"""The consortium deployment's tooling (issue 16 §1): node keys, the QBFT network files, and
the static checks CI runs because no container engine runs on our machines.

`python -m deploy.network keygen | init | check` is the command line; docs/deploy.md is the
operator's guide.
"""
