"""Numbers: the worked example (forward values, adjoints, gradients, updates, training)
in float64, exact or N-digit arithmetic, and the finite-difference check.
"""
