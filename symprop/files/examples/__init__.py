"""Built-in network files (``*.toml``), shipped inside the package.

Read them with :func:`symprop.files.spec.builtin_examples` or
:func:`symprop.files.spec.load_builtin`; ``symprop examples`` writes them out.
"""
