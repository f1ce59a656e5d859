"""Network files: the TOML schema read into a network or graph, the one safe expression
parser (for files and claims), and the built-in examples.
"""
