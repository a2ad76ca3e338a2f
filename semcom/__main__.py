import sys

from semcom.cli import main

sys.exit(main())
