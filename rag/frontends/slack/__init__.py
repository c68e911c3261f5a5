"""The Slack bot: Bolt app, message formatting, guards, HTTP server."""
