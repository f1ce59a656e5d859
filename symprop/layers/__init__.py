"""Layer forms: the matrix form (BP1-BP4) and the index form per layer, their proof entry
by entry against the engine's gradients, and the "Deep Learning from Scratch" layer view.
"""
