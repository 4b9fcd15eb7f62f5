"""RBAC API: which features are enabled for the calling tenant."""

from __future__ import annotations

import logging
import os
import time
import uuid
from typing import Any

from fastapi import Depends, FastAPI, Header, HTTPException, status
from sqlalchemy import and_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from db import FeatureFlag, TenantFeature, engine, get_session_dependency

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
logger = logging.getLogger("rbac.features")

API_KEY = os.environ.get("RBAC_API_KEY", "scraper_sky_2024")
FEATURE_CACHE_TTL = float(os.environ.get("FEATURE_CACHE_TTL", "0.5"))


class FeatureService:
    def __init__(self, ttl: float = FEATURE_CACHE_TTL) -> None:
        self.ttl = ttl
        self._feature_flags_cache: dict[str, dict[str, bool]] = {}
        self._cache_timestamp: dict[str, float] = {}

    @staticmethod
    def normalize_tenant_id(tenant_id: str) -> str:
        return str(uuid.UUID(tenant_id.strip()))

    def _is_cache_valid(self, cache_key: str) -> bool:
        stamp = self._cache_timestamp.get(cache_key)
        return stamp is not None and time.monotonic() - stamp < self.ttl

    async def get_tenant_features(self, session: AsyncSession, tenant_id: str) -> dict[str, bool]:
        """Get all feature flags for a tenant."""
        try:
            normalized_tenant_id = self.normalize_tenant_id(tenant_id)
            cache_key = f"tenant_features:{normalized_tenant_id}"
            if self._is_cache_valid(cache_key):
                return self._feature_flags_cache.get(cache_key, {})

            stmt = select(FeatureFlag.name, TenantFeature.is_enabled).outerjoin(
                TenantFeature,
                and_(
                    TenantFeature.feature_id == FeatureFlag.id,
                    TenantFeature.tenant_id == uuid.UUID(normalized_tenant_id),
                ),
            )
            features: dict[str, bool] = {}
            self._feature_flags_cache[cache_key] = features
            self._cache_timestamp[cache_key] = time.monotonic()

            result = await session.execute(stmt)
            for name, enabled in result:
                features[name] = enabled if enabled is not None else False
            return features
        except SQLAlchemyError as e:
            logger.exception("Database error when getting tenant features: %s", e)
            raise
        except Exception as e:
            logger.exception("Unexpected error when getting tenant features: %s", e)
            raise


feature_service = FeatureService()

app = FastAPI(title="rbac")


@app.on_event("shutdown")
async def shutdown() -> None:
    await engine.dispose()


def get_feature_service() -> FeatureService:
    return feature_service


def get_current_user_dependency(authorization: str | None = Header(default=None)) -> dict[str, Any]:
    if authorization != f"Bearer {API_KEY}":
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="invalid credentials")
    return {"sub": "service", "roles": ["reader"]}


def get_tenant_id_dependency(x_tenant_id: str | None = Header(default=None)) -> str:
    if not x_tenant_id:
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail="X-Tenant-ID header required")
    try:
        uuid.UUID(x_tenant_id.strip())
    except ValueError:
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail="X-Tenant-ID must be a UUID") from None
    return x_tenant_id


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.get("/api/v3/features/tenant", response_model=dict[str, bool], status_code=status.HTTP_200_OK)
async def get_tenant_features(
    session: AsyncSession = Depends(get_session_dependency),
    current_user: dict[str, Any] = Depends(get_current_user_dependency),
    tenant_id: str = Depends(get_tenant_id_dependency),
    service: FeatureService = Depends(get_feature_service),
) -> dict[str, bool]:
    """Get all features for the current tenant."""
    return await service.get_tenant_features(session, tenant_id)
