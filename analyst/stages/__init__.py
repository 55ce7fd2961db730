"""The stages of a report, one module each, composed by ``analyst.pipeline``.

Each stage is a small function of the report's ``Context`` (``stages/context.py``): a generator
that yields its model calls (``extract``, ``verify``, ``synthesize``) or a plain function
(``ground``), with its prompt files named in ``PROMPTS`` and its reply schema beside it. A new stage
is one new module here and one line in the pipeline.
"""
