"""The randomization spec string: 'clean', 'BG', 'TH+CP+BG' or 'all' -> a set of factors."""

from __future__ import annotations

# Order is the order factors are listed in records and messages.
VIEW_FACTORS = ("BG", "LT", "CP")  # change only what cameras see: may be re-sampled every frame
SCENE_FACTORS = ("TD", "TH")  # change what the task needs: once per episode
EXTRA_FACTORS = ("OBJ", "PHY")  # off unless named
ALL_FACTORS = ("BG", "LT", "TD", "CP", "TH")  # what 'all' means (the paper's five)
KNOWN_FACTORS = (*ALL_FACTORS, *EXTRA_FACTORS)
EPISODE_ONLY = ("TD", "TH", "OBJ", "PHY")
GRANULARITIES = ("episode", "frame")


def parse_spec(text: str) -> tuple[str, ...]:
    """Factors named by `text`, in KNOWN_FACTORS order; ValueError lists the known ones."""
    words = [word.strip() for word in text.replace(",", "+").split("+") if word.strip()]
    if not words:
        raise ValueError(_allowed("empty spec"))
    if len(words) > 1 and any(word.lower() == "clean" for word in words):
        # 'clean+BG' is a contradiction, not BG: say so rather than guess which was meant
        raise ValueError(_allowed("'clean' means no factor and cannot be joined with others"))
    factors: set[str] = set()
    for word in words:
        if word.lower() == "clean":
            continue
        if word.lower() == "all":
            factors.update(ALL_FACTORS)
        elif word.upper() in KNOWN_FACTORS:
            factors.add(word.upper())
        else:
            raise ValueError(_allowed(f"unknown factor {word!r}"))
    return tuple(name for name in KNOWN_FACTORS if name in factors)


def format_spec(factors: tuple[str, ...]) -> str:
    """The canonical spelling: 'clean' or factors joined with '+'."""
    return "+".join(factors) if factors else "clean"


def _allowed(problem: str) -> str:
    return (
        f"{problem}; known factors: {', '.join(KNOWN_FACTORS)}; write 'clean', one factor, "
        "several joined with '+' (TH+CP+BG) or 'all' (BG+LT+TD+CP+TH)"
    )
