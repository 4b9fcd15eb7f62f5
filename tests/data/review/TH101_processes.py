"""TH101: subprocesses and os process calls inside async def (flake8-async ASYNC220-222)."""

import asyncio
import os
import subprocess
from subprocess import Popen, check_output

from fastapi import FastAPI

app = FastAPI()


@app.post("/convert/{name}")
async def convert(name: str):
    pdf = check_output(["wkhtmltopdf", name, "-"])  # expect: TH101
    subprocess.run(["optipng", name], check=True)  # expect: TH101
    Popen(["notify-send", name])  # expect: TH101
    os.system(f"touch {name}.done")  # expect: TH101
    return pdf


@app.post("/spawn")
async def spawn():
    pid = os.spawnlp(os.P_NOWAIT, "sleep", "sleep", "1")  # expect: TH101
    os.posix_spawn("/bin/true", ["true"], os.environ)  # expect: TH101
    os.waitpid(pid, 0)  # expect: TH101
    os.wait3(0)  # expect: TH101
    return {"pid": pid}


@app.post("/convert-fixed/{name}")
async def convert_fixed(name: str):
    proc = await asyncio.create_subprocess_exec("wkhtmltopdf", name, "-", stdout=subprocess.PIPE)
    out, _ = await proc.communicate()
    await asyncio.to_thread(subprocess.run, ["optipng", name], check=True)
    os.getpid()
    subprocess.list2cmdline(["a", "b"])
    return out
