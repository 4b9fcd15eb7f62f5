"""TH101: blocking file I/O and time.sleep inside async def (flake8-async ASYNC230, 231, 251)."""

import asyncio
import io
import os
import shutil
import time
from pathlib import Path
from time import sleep

import aiofiles
import anyio
from anyio import wrap_file
from fastapi import FastAPI

app = FastAPI()
REPORTS = Path("/var/lib/reports")


@app.get("/reports/{name}")
async def report(name: str):
    with open(REPORTS / name) as f:  # expect: TH101
        text = f.read()
    (REPORTS / f"{name}.seen").write_text("1")  # expect: TH101
    (REPORTS / name).open("rb")  # expect: TH101
    REPORTS.joinpath("index").read_bytes()  # expect: TH101
    io.open_code(str(REPORTS / "plugin.py"))  # expect: TH101
    os.fdopen(3, "w")  # expect: TH101
    shutil.copyfile(REPORTS / name, REPORTS / "last")  # expect: TH101
    return text


@app.post("/retry")
async def retry():
    time.sleep(0.2)  # expect: TH101
    sleep(0.2)  # expect: TH101
    await asyncio.sleep(0.2)


@app.get("/reports-fixed/{name}")
async def report_fixed(name: str):
    async with aiofiles.open(REPORTS / name) as f:
        text = await f.read()
    await asyncio.to_thread((REPORTS / f"{name}.seen").write_text, "1")
    async with anyio.wrap_file(open(REPORTS / name)) as wrapped:  # anyio's async file (anyio runs on asyncio)
        await wrapped.read()
    await wrap_file(open(REPORTS / "index"))
    (REPORTS / name).exists()
    REPORTS / name
    return text


async def shadowed(open):  # a parameter named like the builtin is not the builtin
    return open("x")
