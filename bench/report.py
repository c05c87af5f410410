"""Turn the runs into comparisons against the bare baseline and a table. The targets are
issue 14's (CPU, connect, memory, burst) and issue 9's (latency)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str
    get: Callable[[dict[str, Any]], float | None]
    # Target as a bound on trava/bare: ("min", 1/3) means ratio >= 1/3; None: reported only.
    target: tuple[str, float] | None = None
    target_text: str = ""


def _dig(*path: str) -> Callable[[dict[str, Any]], float | None]:
    def get(run: dict[str, Any]) -> float | None:
        node: Any = run
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node if isinstance(node, int | float) else None

    return get


FIGURES = [
    Figure("connect_rate", "connect+authenticate rate", "conn/s", _dig("connect", "auth_rate_per_s"),
           ("min", 0.6), ">= 0.6 x bare"),
    Figure("connect_cpu", "server CPU per connect+auth", "us", _dig("connect", "cpu_us_per_connection")),
    Figure("connect_join_rate", "connect+auth+join rate", "conn/s", _dig("connect", "rate_per_s")),
    Figure("memory", "memory per idle auth. conn.", "KiB", _dig("memory", "per_connection_kib"),
           ("max", 1.2), "<= 1.2 x bare"),
    Figure("latency_p50", "fan-out latency p50", "ms", _dig("latency_ms", "p50"),
           ("max", 3.0), "<= 3 x bare"),
    Figure("latency_p99", "fan-out latency p99", "ms", _dig("latency_ms", "p99")),
    Figure("throughput", "burst fan-out throughput", "deliv/s", _dig("burst", "deliveries_per_s"),
           ("min", 0.5), ">= 1/2 x bare"),
    Figure("delivered", "burst delivered ratio", "", _dig("burst", "delivered_ratio")),
    Figure("closes_1011", "burst 1011 closes", "", _dig("burst", "closes_1011")),
    Figure("cpu", "server CPU per delivery", "us", _dig("cpu_us_per_delivery"),
           ("max", 1.5), "<= 1.5 x bare"),
]  # fmt: skip


def compare(bare: dict[str, Any], trava: dict[str, Any]) -> dict[str, Any]:
    """Every figure of one size: both values, trava/bare and whether the target is met."""
    rows: dict[str, Any] = {}
    for figure in FIGURES:
        b, t = figure.get(bare), figure.get(trava)
        ratio = round(t / b, 3) if (t is not None and b) else None
        met: bool | None = None
        if figure.target is not None and ratio is not None:
            kind, bound = figure.target
            met = ratio >= bound if kind == "min" else ratio <= bound
        rows[figure.key] = {
            "bare": b,
            "trava": t,
            "ratio": ratio,
            "target": figure.target_text or None,
            "met": met,
        }
    # The throughput target also requires 100 % delivered and no 1011 closes.
    throughput = rows["throughput"]
    if throughput["met"] is not None:
        throughput["met"] = bool(
            throughput["met"] and rows["delivered"]["trava"] == 1.0 and rows["closes_1011"]["trava"] == 0
        )
    for key, want in (("delivered", 1.0), ("closes_1011", 0)):
        value = rows[key]["trava"]
        rows[key]["target"] = f"= {want:g}"
        rows[key]["met"] = None if value is None else value == want
    return rows


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float) and value != int(value):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return f"{value:,.0f}"


def _mark(met: bool | None) -> str:
    return {True: "yes", False: "NO", None: "-"}[met]


def table(
    rows: list[tuple[str, str, str, float | None, float | None, float | None, str, bool | None]],
) -> str:
    """rows: (scenario, figure, unit, baseline, value, ratio, target, met)."""
    header = ("scenario", "figure", "unit", "baseline", "trava", "ratio", "target", "met")
    cells = [
        header,
        *[(s, f, u, _fmt(b), _fmt(v), _fmt(r), t or "-", _mark(m)) for s, f, u, b, v, r, t, m in rows],
    ]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(header))]
    right = {3, 4, 5}
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(
                str(c).rjust(w) if i in right else str(c).ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=False))
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def comparison_rows(scenario: str, rows: dict[str, Any]) -> list[tuple]:
    labels = {f.key: (f.label, f.unit) for f in FIGURES}
    return [
        (scenario, *labels[key], row["bare"], row["trava"], row["ratio"], row["target"], row["met"])
        for key, row in rows.items()
    ]
