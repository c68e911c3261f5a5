"""newsrag: cited answers from ingested news coverage."""

from .assistant import Assistant, ask
from .errors import NewsragError
from .schema import Answer, Citation, Hit
from .settings import Settings

__all__ = ["ask", "Assistant", "Answer", "Citation", "Hit", "Settings", "NewsragError"]
