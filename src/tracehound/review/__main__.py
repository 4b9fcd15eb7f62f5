"""``python -m tracehound.review --docs docs/rules``: generate the rules' pages."""

import sys

from tracehound.review.docs import main

sys.exit(main())
