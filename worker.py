"""Entry point for `python worker.py`: same as `hindsight worker`."""

import sys

from app.settings import load_settings
from app.worker import run_worker

if __name__ == "__main__":
    sys.exit(run_worker(load_settings(), sys.argv[1:] or None))
