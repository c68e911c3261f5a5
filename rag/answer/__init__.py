"""From a question to a drafted answer: retrieval, refusal, conflicts, follow-ups, the answerers, the Assistant."""
