"""Checks: a user's claimed gradient (with a diagnosis when it is wrong) and a user's
backward pass, against the engine.
"""
