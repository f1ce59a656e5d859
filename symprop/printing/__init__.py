"""Printing: the LaTeX printer, the one number formatter, and equations laid out as rows.
"""
