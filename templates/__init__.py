"""symprop's document templates (Markdown and LaTeX), shipped as package data."""
