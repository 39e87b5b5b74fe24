"""``[deviation_links]`` of a server TOML: the server's issue for a declared deviation, carried
into the result and linked by the reports."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.harness.serverconfig import ServerConfig, ServerConfigError

BASE: dict[str, Any] = {
    "name": "alpha",
    "distribution": "alpha",
    "command": ["{python}", "-m", "alpha", "--fd", "{fd}", "{app}"],
    "deviations": {"X-ONE": "sends 2 (RFC 1 §1)"},
}


def test_a_link_is_kept_per_declared_id() -> None:
    data = {**BASE, "deviation_links": {"X-ONE": "https://github.com/o/alpha/issues/7"}}
    config = ServerConfig.from_mapping(data, "alpha.toml")
    assert config.deviation_links == {"X-ONE": "https://github.com/o/alpha/issues/7"}
    assert ServerConfig.from_mapping(BASE, "alpha.toml").deviation_links == {}


@pytest.mark.parametrize(
    "links",
    [
        {"X-TWO": "https://github.com/o/alpha/issues/7"},  # no such declared deviation
        {"X-ONE": "github.com/o/alpha/issues/7"},  # not an http(s) URL
        {"X-ONE": 7},
        ["https://github.com/o/alpha/issues/7"],
    ],
)
def test_a_bad_link_is_a_clear_error(links: Any) -> None:
    with pytest.raises(ServerConfigError, match=r"alpha\.toml: '\[deviation_links\]'"):
        ServerConfig.from_mapping({**BASE, "deviation_links": links}, "alpha.toml")
