"""The json-router breakdown apps all give the benchmark's answer, and time in-process."""

from __future__ import annotations

import json
from typing import Any

import pytest

from benchmarks import bench_breakdown
from benchmarks.apps import breakdown
from benchmarks.apps.common import JSON_PATH, ROUTE_COUNT, json_payload
from benchmarks.bench_responses import server_scope
from benchmarks.tools import Tools


async def _answer(name: str) -> tuple[int, dict[str, Any], dict[bytes, bytes]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(dict(message))

    await getattr(breakdown, name)(server_scope(JSON_PATH), receive, send)
    start, body = sent
    return start["status"], json.loads(body["body"]), dict(start["headers"])


@pytest.mark.parametrize("name", list(breakdown.LAYERS))
async def test_every_layer_answers_like_the_benchmark_apps(name: str) -> None:
    status, payload, headers = await _answer(name)
    assert status == 200
    assert payload == json_payload(ROUTE_COUNT - 1, 42)
    assert headers[b"content-type"] == b"application/json"
    assert int(headers[b"content-length"]) > 0


def test_in_process_times_every_layer(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("BAIZE_BENCH_DATA_DIR", str(tmp_path))
    times = bench_breakdown.in_process(rounds=2, calls=5)
    assert list(times) == list(breakdown.LAYERS)
    assert all(micros > 0 for micros in times.values())


def test_without_wrk_the_breakdown_says_how_to_install_and_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert bench_breakdown.main(["--server", "granian"], Tools()) == 2
    assert "apt-get install -y wrk" in capsys.readouterr().err
