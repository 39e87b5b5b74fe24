"""``[offers]`` capabilities (websocket, lifespan, http10): parsed, defaulted, refused when
malformed, and turned into ``not-applicable`` by :func:`require_offer`."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from conformance.harness.outcomes import NotApplicable, require_offer
from conformance.harness.serverconfig import ServerConfig, ServerConfigError

BASE: dict[str, Any] = {
    "name": "example",
    "distribution": "example",
    "command": ["{python}", "-m", "example", "--fd", "{fd}", "{app}"],
}


def parse(offers: dict[str, Any]) -> ServerConfig:
    return ServerConfig.from_mapping({**BASE, "offers": offers}, "servers/example.toml")


def test_capabilities_default_to_offered() -> None:
    offers = parse({}).offers
    assert (offers.websocket, offers.lifespan, offers.http10) == (True, True, True)
    assert offers.capability("websocket")


@pytest.mark.parametrize("name", ["websocket", "lifespan", "http10"])
def test_a_capability_can_be_declared_missing(name: str) -> None:
    offers = parse({name: False}).offers
    assert not offers.capability(name)
    assert all(
        offers.capability(other) for other in ("websocket", "lifespan", "http10") if other != name
    )


def test_a_non_boolean_capability_names_the_file_and_field() -> None:
    with pytest.raises(ServerConfigError, match=r"servers/example.toml: 'offers.websocket'"):
        parse({"websocket": "no"})


def test_an_unknown_capability_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown capability"):
        parse({}).offers.capability("telepathy")


def test_require_offer_is_not_applicable_with_the_reason() -> None:
    server = SimpleNamespace(config=parse({"websocket": False}))
    with pytest.raises(NotApplicable, match=r"servers/example.toml: \[offers\] websocket = false"):
        require_offer(server, "websocket")
    require_offer(server, "lifespan")  # offered: nothing happens
