"""Categories of personal information that may never be collected.

征信业管理条例 第十四条 forbids collecting religion, genes, fingerprints, blood type, disease
and medical history. `prohibited_category(name)` recognises a column name (English words in
any snake/camel/kebab case, or Chinese) that belongs to one of them.
"""

from __future__ import annotations

import re

# Each category: English token sequences (matched on word boundaries) and Chinese substrings.
_CATEGORIES: dict[str, tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]] = {
    "religion": ((("religion",), ("religious",), ("faith",), ("belief",)), ("宗教", "信仰")),
    "genes": (
        (("gene",), ("genes",), ("genetic",), ("genome",), ("dna",), ("genotype",)),
        ("基因",),
    ),
    "fingerprints": ((("fingerprint",), ("fingerprints",)), ("指纹",)),
    "blood type": (
        (("blood", "type"), ("blood", "group"), ("bloodtype",), ("abo",), ("rh", "factor")),
        ("血型",),
    ),
    "disease": (
        (("disease",), ("diseases",), ("illness",), ("diagnosis",), ("icd",)),
        ("疾病", "诊断"),
    ),
    "medical history": (
        (
            ("medical", "history"),
            ("medical", "record"),
            ("medical", "records"),
            ("health", "record"),
        ),
        ("病史", "病历", "既往史"),
    ),
}


def _tokens(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [t for t in re.split(r"[^a-z0-9]+", spaced.lower()) if t]


def _contains(tokens: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(tokens[i : i + n]) == phrase for i in range(len(tokens) - n + 1))


def prohibited_category(name: str) -> str | None:
    """Return the prohibited category a column name belongs to, or None.

    >>> prohibited_category("blood_type")
    'blood type'
    >>> prohibited_category("donation_kind") is None
    True
    """
    tokens = _tokens(name)
    for category, (phrases, chinese) in _CATEGORIES.items():
        if any(_contains(tokens, p) for p in phrases) or any(z in name for z in chinese):
            return category
    return None
