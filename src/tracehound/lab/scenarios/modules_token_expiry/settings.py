"""Service settings, read once from the environment."""

from __future__ import annotations

import os

DATABASE_URL = os.environ["DATABASE_URL"]
JWT_SECRET = os.environ.get("JWT_SECRET", "dev-only-canvas-secret-change-me")
JWT_ALGORITHM = "HS256"
JWT_ISSUER = "canvas-api"
ACCESS_TOKEN_EXPIRE_MINUTES = int(os.environ.get("ACCESS_TOKEN_EXPIRE_MINUTES", "5"))
DB_POOL_MAX = int(os.environ.get("DB_POOL_MAX", "10"))
