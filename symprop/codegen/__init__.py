"""Generated code: NumPy forward and backward passes for users, one matrix product per
layer for layered networks and one line per node for any graph.
"""
