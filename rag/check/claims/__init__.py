"""The claim check: does a passage state a sentence? (rules in verdict.py; numbers with units in numbers.py)."""

from rag.check.claims.verdict import (LLM_MIN_COVERAGE, RULES, SUPPORT_THRESHOLD, VERDICTS, Verdict,
                                      coverage_beyond, judge, says_sources_lack, states_nothing,
                                      unstated_day, unstated_name)
from rag.nlp.numbers import Quantity, quantities


def clear_caches() -> None:
    """Forget parsed passages and quotes (for timing a claim cold)."""
    from rag.attribution import quotes
    from rag.check.claims import verdict

    verdict._passage.cache_clear()
    verdict._swapped.cache_clear()
    verdict._premise.cache_clear()
    quotes._find.cache_clear()


__all__ = ["judge", "states_nothing", "says_sources_lack", "unstated_day", "unstated_name", "coverage_beyond",
           "LLM_MIN_COVERAGE", "Verdict", "RULES", "VERDICTS", "SUPPORT_THRESHOLD",
           "quantities", "Quantity", "clear_caches"]
