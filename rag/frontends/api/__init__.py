"""The JSON HTTP API and the MCP server, over one service layer."""
