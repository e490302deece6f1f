import sys

from platewise.cli import main

sys.exit(main())
