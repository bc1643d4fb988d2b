from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter()

# TEMPORARY: minimal named routes so the site layout renders; the owner replaces this file.


@router.get("/connexion", name="accounts:login")
def temporary_0(request: Request) -> HTMLResponse:
    return HTMLResponse("")


@router.get("/inscription", name="accounts:register")
def temporary_1(request: Request) -> HTMLResponse:
    return HTMLResponse("")


@router.post("/deconnexion", name="accounts:logout")
def temporary_2(request: Request) -> HTMLResponse:
    return HTMLResponse("")
