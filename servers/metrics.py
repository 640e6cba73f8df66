"""Prometheus metrics of tool calls: count by tool and outcome, latency, in flight."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ToolMetrics:
    """The tool-call metrics of one process."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "promptsales_tool_calls",
            "Tool calls by tool and outcome.",
            ["tool", "outcome"],
            registry=registry,
        )
        self.latency = Histogram(
            "promptsales_tool_latency_seconds",
            "Tool call latency.",
            ["tool"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.in_flight = Gauge("promptsales_tool_calls_in_flight", "Tool calls running now.", registry=registry)
