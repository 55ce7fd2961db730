"""The stages of a report, one module (or package) each, composed by ``analyst.pipeline``.

Each stage is a small function of the report's ``Context`` (``stages/context.py``): a generator
that yields its model calls (``extract``, ``verify``, ``synthesize``, ``who``) or a plain function
(``ground``, ``notes``). Each declares itself at its end, ``STAGE = Stage(...)``
(``stages/contract.py``): its prompt files, the tasks it adds to the system text, its flags and
its view; ``pipeline.STAGES`` lists them, and the registries are read from there. A new stage is
its module, its prompt files, its tests, and its line in the pipeline.
"""
