"""What a run measured, and the table and verdicts printed from it."""

from __future__ import annotations

from dataclasses import dataclass

from bench.portal_prepare import Prepared

# The targets (issues show 4, "Batching and speed"), at the highest concurrency. The
# dashboard's is judged on `dashboard`, the whole dashboard (members, bill and lines,
# payments, contracts and documents), no longer on its members part alone.
TARGET_RATIOS = {"dashboard": 0.12, "member-search": 0.2}
TARGET_RSS_MIB = 200


@dataclass
class Tally:
    latencies: list[float]
    completed: int = 0  # including the requests that finished after the window closed
    errors: int = 0
    first_error: str | None = None

    def add(self, seconds: float, problem: str | None, in_window: bool) -> None:
        self.completed += 1
        if problem is not None:
            self.errors += 1
            self.first_error = self.first_error or problem
        elif in_window:
            self.latencies.append(seconds)


@dataclass(frozen=True, slots=True)
class Measurement:
    operation: str
    server: str
    clients: int
    seconds: float
    tally: Tally
    warm_up_errors: int
    cpu_seconds: float
    connections_opened: int  # PostgreSQL sessions started in the window (pool churn)

    @property
    def rate(self) -> float:
        return len(self.tally.latencies) / self.seconds

    @property
    def errors(self) -> int:
        return self.tally.errors + self.warm_up_errors

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_seconds / max(1, self.tally.completed)

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.tally.latencies)
        if not ordered:
            return float("nan")
        return 1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def print_report(
    results: list[Measurement], prepared: Prepared, rss: dict[str, float], warm_up: float
) -> None:
    print(
        f"\n{warm_up:.0f} s warm-up, {results[0].seconds:.0f} s measured per row and server;"
        " ratio = GraphQL req/s / floor req/s. Pairs are GraphQL / floor. SQL per request"
        " counted in-process (the gateway's includes 1 statement for the token's user);"
        " new PG connections are sessions opened during the measured window.\n"
    )
    print(
        "| operation | clients | GraphQL req/s | floor req/s | ratio"
        " | GraphQL p50 / p95 / p99 ms | floor p50 / p95 / p99 ms | server CPU ms/req"
        " | errors | SQL/request | new PG connections |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    ratios: dict[tuple[str, int], float] = {}
    for graphql, floor in zip(results[::2], results[1::2], strict=True):
        ratio = graphql.rate / floor.rate if floor.rate else float("nan")
        ratios[(graphql.operation, graphql.clients)] = ratio
        print(
            f"| {graphql.operation} | {graphql.clients} | {graphql.rate:,.1f} | {floor.rate:,.1f}"
            f" | **{ratio:.3f}** | {_latencies(graphql)} | {_latencies(floor)}"
            f" | {graphql.cpu_ms_per_request:.2f} / {floor.cpu_ms_per_request:.2f}"
            f" | {graphql.errors} / {floor.errors}"
            f" | {_span(prepared.graphql_statements[graphql.operation])}"
            f" / {_span(prepared.floor_statements[graphql.operation])}"
            f" | {graphql.connections_opened} / {floor.connections_opened} |"
        )
    for result in results:
        if result.tally.first_error:
            print(f"first error, {result.operation} {result.server}: {result.tally.first_error}")
    print(
        f"\npeak RSS (VmHWM): GraphQL server {rss['GraphQL']:.0f} MiB, floor {rss['floor']:.0f} MiB"
    )
    busiest = max(result.clients for result in results)
    print(f"\ntargets ({busiest} clients, authorization on):")
    for operation, target in TARGET_RATIOS.items():
        if (operation, busiest) in ratios:
            ratio = ratios[(operation, busiest)]
            verdict = "met" if ratio >= target else "MISSED"
            print(
                f"- {operation} at {busiest} clients: {ratio:.3f} of the floor,"
                f" target ≥ {target}: {verdict}"
            )
    verdict = "met" if rss["GraphQL"] < TARGET_RSS_MIB else "MISSED"
    print(f"- RSS {rss['GraphQL']:.0f} MiB, target < {TARGET_RSS_MIB} MiB: {verdict}")
    errors = sum(result.errors for result in results)
    print(f"- errors: {errors}, target 0: {'met' if errors == 0 else 'MISSED'}")


def _latencies(result: Measurement) -> str:
    return " / ".join(f"{result.percentile_ms(q):.1f}" for q in (0.5, 0.95, 0.99))


def _span(counts: tuple[int, int]) -> str:
    return str(counts[0]) if counts[0] == counts[1] else f"{counts[0]}-{counts[1]}"
