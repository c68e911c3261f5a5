"""`newsrag eval`: question sets, metrics, the claim-check scores, the plain RAG yardstick."""
