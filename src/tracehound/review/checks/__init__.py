"""The rule families, one module each: every rule declared beside its check, and listed in
:data:`tracehound.review.registry.CHECKS`."""
