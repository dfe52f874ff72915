"""``python -m analysis RESPONSES.csv --design DESIGN.json [--out FILE]``: see analysis.cli."""

import sys

from analysis.cli import main

sys.exit(main())
