"""The claim check: does a passage state a sentence? (rules in verdict.py; numbers with units in numbers.py)."""

from .numbers import Quantity, quantities
from .verdict import RULES, Verdict, judge

__all__ = ["judge", "Verdict", "RULES", "quantities", "Quantity"]
