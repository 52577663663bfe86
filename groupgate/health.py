"""Probes: `/healthz` says the process is up, `/readyz` that it can serve (database, schema)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse

from data import migrate
from data.database import Database


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    database: Database = request.app.state.database
    try:
        async with database.reader.connect() as connection:
            await connection.execute(text("SELECT 1"))
        at_head = await migrate.is_at_head(database.engine)
    except (SQLAlchemyError, OSError) as error:
        return JSONResponse(
            {"status": "unavailable", "database": f"unreachable: {type(error).__name__}"},
            status_code=503,
        )
    if not at_head:
        return JSONResponse(
            {"status": "unavailable", "database": "migrations pending: run `groupgate migrate`"},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok"})
