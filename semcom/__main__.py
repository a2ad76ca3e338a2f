import sys

from semcom.cli import main

if __name__ == "__main__":  # not when a spawned worker (semcom.eval.parallel) re-imports the main module
    sys.exit(main())
