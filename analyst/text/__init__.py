"""Text, with no model: ``sections`` cuts the body into sections under a token budget and packs
them into calls, ``tokens`` counts with tiktoken offline, ``quotes`` locates a quote in the
article (exact, normalized, fuzzy) and finds terms the article never uses."""
