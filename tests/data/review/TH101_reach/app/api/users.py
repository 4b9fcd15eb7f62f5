from fastapi import APIRouter, Depends

from app.api.deps import current_user

router = APIRouter(prefix="/users")


@router.get("/me")
async def me(user: dict = Depends(current_user)):
    return user
