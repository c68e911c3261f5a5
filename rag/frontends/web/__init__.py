"""The Gradio web chat: page, data, rendering, login, conversations, watched feeds."""
