"""``python -m tracehound.logs --docs docs/log-signatures.md``: the signature table's page."""

from tracehound.logs.signatures import main

raise SystemExit(main())
