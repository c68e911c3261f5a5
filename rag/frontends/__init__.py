"""The ways in: CLI, web chat, Slack, JSON API and MCP, and how `newsrag ask` finds a running server."""
