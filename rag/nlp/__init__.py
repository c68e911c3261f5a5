"""Text analysis shared by ingest and answering: normalisation and names, sentences, dates, numbers, content words, answer types."""
