"""The hostile corpus: hand-made inputs that must each be derived or refused in one line, quickly."""
