"""``python -m symprop``: the command line."""
from symprop.cli import main

main()
