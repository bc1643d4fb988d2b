from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter()

# TEMPORARY: minimal named routes so the site layout renders; the owner replaces this file.


@router.get("/agents/taches", name="tasks:list")
def temporary_0(request: Request) -> HTMLResponse:
    return HTMLResponse("")
