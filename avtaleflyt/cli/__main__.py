import sys

from avtaleflyt.cli import app

sys.exit(app())
