from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter()

# TEMPORARY: minimal named routes so the site layout renders; the owner replaces this file.


@router.get("/mentions-legales", name="legal:notices")
def temporary_0(request: Request) -> HTMLResponse:
    return HTMLResponse("")


@router.get("/donnees-personnelles", name="legal:privacy")
def temporary_1(request: Request) -> HTMLResponse:
    return HTMLResponse("")


@router.get("/accessibilite", name="legal:accessibility")
def temporary_2(request: Request) -> HTMLResponse:
    return HTMLResponse("")
