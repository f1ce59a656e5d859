"""Outputs: the writers of the document model (Markdown, LaTeX through Jinja2 templates),
PDF through latexmk, JSON, atomic writes, and the jobs the command line runs.
"""
