"""``python -m boostobj``: the same as the ``boostobj`` console script."""

import sys

from boostobj.cli import main

sys.exit(main())
