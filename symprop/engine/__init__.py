"""The engine: one reverse walk over the graph, and the frozen records it fills in
(factors, paths, terms, adjoints, gradients).
"""
