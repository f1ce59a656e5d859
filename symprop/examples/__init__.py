"""Built-in network files (``*.toml``), shipped inside the package.

Read them with :func:`symprop.spec.builtin_examples` or
:func:`symprop.spec.load_builtin`; ``symprop examples`` writes them out.
"""
