"""Measuring the reports: ``articles`` (``analyst eval``: ROUGE against human summaries, and the
proof figures of each report), ``claims`` (``analyst eval --claims``: the verifier against human
labels), ``proof`` (what a report's proof proves, computed from the report and its article)."""
