"""``python -m twin`` is the ``twin`` command."""

import sys

from .cli import main

sys.exit(main())
