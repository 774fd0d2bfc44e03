"""The vocabulary of postmortems: pure Python, no I/O, no framework."""
