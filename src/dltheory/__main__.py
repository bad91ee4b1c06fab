import sys

from dltheory.cli import main

sys.exit(main())
