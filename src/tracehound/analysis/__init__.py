"""Pure, vectorised analysis over request records."""
