"""Who said what: quotes and their speakers in the text, the quote index, the who-said-what answerer."""
