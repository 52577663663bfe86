"""The served app: probes, request ids, and the GraphQL endpoint over real HTTP semantics."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from authz import keys
from data.models.plans import CoverageTier, MetalLevel, Plan, PlanKind, PlanRate
from tests.conftest import make_settings, serve_api


async def test_healthz_answers_while_the_process_is_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_when_database_is_migrated(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert (response.status_code, response.json()["status"]) == (200, "ok")


async def test_readyz_refuses_a_database_with_pending_migrations(
    empty_database_url: str, tmp_path: Path
) -> None:
    async with serve_api(make_settings(empty_database_url, tmp_path)) as api:
        response = await api.client.get("/readyz")
    assert response.status_code == 503
    assert "groupgate migrate" in response.json()["database"]


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    sent = await client.get("/healthz", headers={"x-request-id": "caller-id-1234"})
    made = await client.get("/healthz", headers={"x-request-id": "bad"})
    assert sent.headers["x-request-id"] == "caller-id-1234"
    assert len(made.headers["x-request-id"]) == 32


async def test_graphiql_only_in_development(migrated_engine: AsyncEngine, tmp_path: Path) -> None:
    url = migrated_engine.url.render_as_string(hide_password=False)
    accept_html = {"accept": "text/html"}
    async with serve_api(make_settings(url, tmp_path)) as api:
        development = await api.client.get("/graphql", headers=accept_html)
    assert development.status_code == 200
    assert "graphiql" in development.text.lower()

    keys.rotate(tmp_path / "keys")
    production = make_settings(url, tmp_path, env="production", secret_key="p" * 40)
    async with serve_api(production) as api:
        refused = await api.client.get("/graphql", headers=accept_html)
    assert "graphiql" not in refused.text.lower()


async def test_plan_catalogue_query(
    migrated_engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    async with migrated_engine.begin() as connection:
        plan_id = (
            await connection.execute(
                insert(Plan)
                .values(
                    code="HMO-GOLD-NC",
                    name="Gold HMO",
                    kind=PlanKind.HMO,
                    metal_level=MetalLevel.GOLD,
                    region="NC",
                )
                .returning(Plan.id)
            )
        ).scalar_one()
        await connection.execute(
            insert(PlanRate),
            [
                {"plan_id": plan_id, "plan_year": 2026, "tier": tier, "monthly_rate_cents": cents}
                for tier, cents in zip(CoverageTier, [61234, 122468, 110221, 171455], strict=True)
            ],
        )
    query = """{ plans(region: "NC") { code kind metalLevel
                  rates(planYear: 2026) { tier monthlyRate { amount currency } }
                  benefits(planYear: 2026) { planYear } } }"""
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200
    [plan] = response.json()["data"]["plans"]
    assert plan["code"] == "HMO-GOLD-NC"
    assert (plan["kind"], plan["metalLevel"], plan["benefits"]) == ("HMO", "GOLD", None)
    assert plan["rates"] == [
        {"tier": "EMPLOYEE", "monthlyRate": {"amount": 61234, "currency": "USD"}},
        {"tier": "EMPLOYEE_SPOUSE", "monthlyRate": {"amount": 122468, "currency": "USD"}},
        {"tier": "EMPLOYEE_CHILDREN", "monthlyRate": {"amount": 110221, "currency": "USD"}},
        {"tier": "FAMILY", "monthlyRate": {"amount": 171455, "currency": "USD"}},
    ]
