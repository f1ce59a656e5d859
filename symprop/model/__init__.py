"""The model: a network as a graph of ordered equations, symprop's functions and their
records (one per activation and per loss), the layer builders, and the notations.
"""
