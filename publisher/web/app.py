"""The one FastAPI application. Each face area is its own router; the staff console joins later."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from publisher import __version__
from publisher.newsroom import Newsroom
from publisher.web import consultation, partners


def create_app(room: Newsroom) -> FastAPI:
    name = room.settings.newsroom.full_name or room.settings.newsroom.name
    app = FastAPI(
        title=f"{name} · publisher",
        version=__version__,
        description="合作媒体供稿接口：拉取订阅源与采用回执 / partner supply: pull feeds and adoption callbacks",
    )
    app.state.room = room
    app.include_router(partners.router)
    app.include_router(consultation.router)
    # Pages of the newsroom's own website may call the consultation API from a script; the forms
    # themselves post without one. Partners call from servers, which send no Origin.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=consultation.site_origins(room),
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "Accept"],
        max_age=600,
    )

    @app.get("/healthz", tags=["service"], summary="存活检查 / liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
