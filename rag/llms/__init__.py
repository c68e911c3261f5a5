"""The chat models newsrag can answer with: choosing one from settings, local GGUF files, the bundled model."""
