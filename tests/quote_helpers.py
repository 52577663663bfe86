"""Test set-ups shared by the quote and application tests."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from data.models.quotes import Quote
from tests.conftest import Api


async def make_older(api: Api, quote_id: int, days: int) -> None:
    """Make the quote `days` older than it is (its expiry moves with it)."""
    async with api.app.state.database.engine.begin() as connection:
        made, expires = (
            await connection.execute(
                select(Quote.created_at, Quote.expires_at).where(Quote.id == quote_id)
            )
        ).one()
        await connection.execute(
            update(Quote)
            .where(Quote.id == quote_id)
            .values(
                created_at=made - timedelta(days=days), expires_at=expires - timedelta(days=days)
            )
        )
