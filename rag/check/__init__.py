"""The claim check: every sentence judged against its passages before the user sees it."""
