"""Task tracker API: the dashboard lists a user's tasks column by column."""

from __future__ import annotations

import logging
import os
from datetime import date

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from db import SessionLocal, Task, User, engine

logging.basicConfig(
    filename=os.environ.get("LOG_FILE"),
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("tasks")

STATUSES = ("open", "in_progress", "review", "blocked", "done")

app = FastAPI(title="tasks")


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    project_id: int
    title: str
    status: str
    priority: int
    due: date | None


@app.on_event("shutdown")
async def shutdown() -> None:
    await engine.dispose()


@app.get("/health")
async def health() -> dict:
    return {"status": "ok"}


@app.get("/tasks", response_model=list[TaskOut])
async def list_tasks(assignee: str, status: str = "open", limit: int = 50):
    if status not in STATUSES:
        raise HTTPException(status_code=422, detail=f"unknown status {status!r}")
    db = SessionLocal()
    user = await db.scalar(select(User).where(User.username == assignee, User.active))
    if user is None:
        raise HTTPException(status_code=404, detail=f"no active user {assignee!r}")
    rows = (
        await db.scalars(
            select(Task)
            .where(Task.assignee_id == user.id, Task.status == status)
            .order_by(Task.priority, Task.due, Task.id)
            .limit(limit)
        )
    ).all()
    if not rows:
        return []
    tasks = [TaskOut.model_validate(t) for t in rows]
    await db.close()
    return tasks


@app.get("/tasks/{task_id}", response_model=TaskOut)
async def get_task(task_id: int):
    db = SessionLocal()
    try:
        task = await db.get(Task, task_id)
    finally:
        await db.close()
    if task is None:
        raise HTTPException(status_code=404, detail="task not found")
    return TaskOut.model_validate(task)
