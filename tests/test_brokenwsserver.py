"""Every SRV-WS case can fail: run the cases against tests/brokenwsserver/server.py, once
without a fault (every case passes: the server is otherwise correct) and once per fault
(each case listed for it fails). One pytest run of the conformance suite, as a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "tests" / "brokenwsserver" / "server.py"
CASES = "conformance/test_srv_websocket.py"
RUN_TIMEOUT = 400.0


def case_names() -> list[str]:
    """The case functions of CASES (``def test_...`` and ``define("test_...", ...)``), read from
    the source: importing it here would apply its markers outside the conformance plugin."""
    text = (ROOT / CASES).read_text(encoding="utf-8")
    return sorted(
        set(
            re.findall(r"^def (test_\w+)\(", text, re.M)
            + re.findall(r'define\(\s*"(test_\w+)"', text)
        )
    )


#: fault -> the cases that must fail against it
CATCHES: dict[str, list[str]] = {
    "mask-frames": ["test_server_frames_are_unmasked", "test_text_message_lengths"],
    "accept-unmasked": ["test_unmasked_client_frame_fails_the_connection"],
    "ignore-rsv": [
        "test_rsv1_fails",
        "test_rsv2_fails",
        "test_rsv3_fails",
        "test_rsv_on_close_fails",
    ],
    "ignore-opcode": [
        "test_opcode_3_fails",
        "test_opcode_7_fails",
        "test_opcode_b_fails",
        "test_opcode_f_fails",
        "test_nothing_processed_after_a_violation",
        "test_protocol_error_close_code_1002",
    ],
    "accept-any-version": [
        "test_handshake_unknown_version_refused",
        "test_handshake_refusal_lists_version_13",
        "test_handshake_without_version_refused",
    ],
    "no-version-header": ["test_handshake_refusal_lists_version_13"],
    "accept-bad-key": [
        "test_handshake_without_key_refused",
        "test_handshake_key_of_8_bytes_refused",
        "test_handshake_key_not_base64_refused",
    ],
    "wrong-accept": ["test_handshake_accept_key"],
    "no-close-reply": [
        "test_close_is_answered",
        "test_empty_close_is_answered",
        "test_close_with_123_byte_reason_is_answered",
        "test_every_valid_close_code_is_answered",
        "test_server_closes_tcp_after_close_handshake",
    ],
    "ignore-utf8": [
        "test_invalid_utf8_text_fails",
        "test_invalid_utf8_in_fragments_fails",
        "test_overlong_utf8_fails",
        "test_truncated_utf8_fails",
        "test_invalid_utf8_close_reason_fails",
        "test_invalid_utf8_close_code_1007",
    ],
    "close-1000-on-error": [
        "test_protocol_error_close_code_1002",
        "test_invalid_utf8_close_code_1007",
        "test_huge_frame_close_code_1009",
        "test_reserved_close_codes_fail",
        "test_undefined_close_codes_fail",
        "test_close_codes_out_of_range_fail",
        "test_app_raising_after_accept_close_code",
    ],
    "no-pong": [
        "test_ping_without_payload",
        "test_ping_with_125_bytes",
        "test_frames_sent_one_byte_at_a_time",
        "test_ping_between_fragments",
    ],
    "pong-empty": ["test_ping_with_125_bytes"],
    "keep-tcp-open": [
        "test_server_closes_tcp_after_close_handshake",
        "test_server_initiated_close_then_tcp_close",
    ],
    "long-length": ["test_server_uses_minimal_length_encoding"],
    "send-after-close": ["test_no_data_frame_after_the_servers_close"],
    "no-limit": ["test_frame_announcing_2_to_62_bytes_is_cut"],
    "ignore-control-size": [
        "test_ping_of_126_bytes_fails",
        "test_close_of_126_bytes_fails",
        "test_fragmented_control_frame_fails",
    ],
    "subprotocol-always": [
        "test_handshake_no_subprotocol_unless_offered",
        "test_handshake_no_subprotocol_when_app_declines",
    ],
    "extension-always": [
        "test_handshake_no_extension_unless_requested",
        "test_handshake_unknown_extension_not_accepted",
    ],
    "upgrade-http10": ["test_handshake_over_http10_not_upgraded"],
    "no-host-check": ["test_handshake_without_host_refused"],
    "disconnect-1000": [
        "test_app_gets_the_clients_close_code",
        "test_app_gets_1005_for_a_close_without_code",
    ],
    "app-raise-keep-open": ["test_app_raising_after_accept_closes"],
    "ignore-fragments": [
        "test_continuation_without_start_fails",
        "test_new_message_inside_fragmented_fails",
    ],
    "reverse-fragments": ["test_fragments_in_order", "test_fragmented_text"],
    "status-200": ["test_handshake_status_101"],
    "no-upgrade-field": ["test_handshake_upgrade_field"],
    "no-connection-field": ["test_handshake_connection_field"],
    "upgrade-anything": [
        "test_handshake_with_other_upgrade_not_upgraded",
        "test_handshake_without_connection_upgrade_not_upgraded",
    ],
    "invented-subprotocol": ["test_handshake_subprotocol_is_one_offered"],
    "no-unmask": [
        "test_masking_removed_for_every_byte_value",
        "test_text_message_lengths",
        "test_binary_message_lengths",
    ],
    "first-fragment-only": [
        "test_fragmented_binary",
        "test_fragmented_with_empty_fragments",
        "test_valid_utf8_split_inside_a_code_point",
    ],
    "control-drops-message": [
        "test_ping_between_fragments",
        "test_unsolicited_pong_between_fragments",
    ],
    "lenient-close": [
        "test_one_byte_close_payload_fails",
        "test_reserved_close_codes_fail",
        "test_undefined_close_codes_fail",
    ],
    "no-disconnect": ["test_app_told_when_tcp_drops", "test_app_told_after_a_protocol_failure"],
    "accept-without-app": [
        "test_app_raising_before_accept_refuses",
        "test_app_returning_before_accept_refuses",
    ],
}


def config(fault: str) -> str:
    command = ["{python}", str(SERVER), "--fd", "{fd}", "--fault", fault]
    return (
        f'name = "broken-{fault}"\n'
        'distribution = "websockets"\n'
        'socket = "fd"\n'
        f"command = {json.dumps(command)}\n"
        "ready_timeout = 10\nstop_timeout = 1\n"
    )


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], str]:
    """(case name, fault) -> outcome, from one conformance run over every fault."""
    tmp = tmp_path_factory.mktemp("brokenws")
    servers = tmp / "servers"
    servers.mkdir()
    nodes = []
    for fault in ["none", *CATCHES]:
        (servers / f"broken-{fault}.toml").write_text(config(fault))
    nodes += [f"{CASES}::{case}[broken-none]" for case in case_names()]
    nodes += [f"{CASES}::{case}[broken-{f}]" for f, cases in CATCHES.items() for case in cases]
    args = [f"--servers-dir={servers}", f"--report-dir={tmp / 'reports'}", "-n", "2", "-q"]
    for fault in ["none", *CATCHES]:
        args += ["--server", f"broken-{fault}"]
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *sorted(set(nodes)), *args, "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    path = tmp / "reports" / "conformance.json"
    assert path.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    report: dict[str, Any] = json.loads(path.read_text())
    found: dict[tuple[str, str], str] = {}
    for result in report["results"]:
        case = result["case"].split("::")[-1].split("[")[0]
        found[(case, result["server"].removeprefix("broken-"))] = result["outcome"]
    return found


@pytest.mark.timeout(RUN_TIMEOUT + 30)
def test_every_case_passes_without_a_fault(outcomes: dict[tuple[str, str], str]) -> None:
    baseline = {case: outcome for (case, fault), outcome in outcomes.items() if fault == "none"}
    assert sorted(baseline) == case_names()
    failed = {case for case, outcome in baseline.items() if outcome != "pass"}
    assert not failed, f"cases failing on the server without a fault: {sorted(failed)}"


@pytest.mark.timeout(RUN_TIMEOUT + 30)
@pytest.mark.parametrize("fault", sorted(CATCHES))
def test_each_fault_is_caught(fault: str, outcomes: dict[tuple[str, str], str]) -> None:
    missed = {case: outcomes.get((case, fault)) for case in CATCHES[fault]}
    assert {case: o for case, o in missed.items() if o != "fail"} == {}
