"""The document: a format-neutral model (sections of headings, prose, equations, tables,
figures) built from a derivation and its worked example, with the picture's layout and the
prose of each language.
"""
