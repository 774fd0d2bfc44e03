"""Entry point for `python worker.py [QUEUE...] [--burst]`: exactly `hindsight worker`.

It goes through the same click command, so the arguments, the one-line
errors and the exit status are the same as the installed script's.
"""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main(["worker", *sys.argv[1:]]))
