"""Every server case can fail: run the ``SRV-*`` cases against ``tests/brokenserver``.

One pytest run of the conformance suite (in a subprocess) with one configuration per fault
(``broken-<faults>``) plus ``broken`` without faults: every case must pass on ``broken`` and
each fault's target cases must fail on its configuration.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "tests" / "brokenserver" / "server.py"
CASE_MODULES = (
    "test_srv_scope",
    "test_srv_response",
    "test_srv_app_errors",
    "test_srv_parsing",
    "test_srv_connection",
)

#: fault name(s) -> the requirement ids (without "SRV-") whose cases the fault must fail.
FAULTS: dict[tuple[str, ...], list[str]] = {
    ("cl-te-keep",): ["PARSE-CL-TE-CLOSE", "PARSE-CL-TE-SMUGGLE-TE-SHORT"],
    ("cl-te-use-cl",): ["PARSE-CL-TE-SMUGGLE-CL-SHORT", "PARSE-CL-TE-CLOSE"],
    ("cl-first",): ["PARSE-CL-DUPLICATE-DIFFERENT", "PARSE-CL-LIST-DIFFERENT"],
    ("cl-sum",): ["PARSE-CL-LIST-SAME", "PARSE-CL-DUPLICATE-SAME"],
    ("cl-lenient",): [
        "PARSE-CL-TRAILING-GARBAGE",
        "PARSE-CL-PLUS-SIGN",
        "PARSE-CL-NEGATIVE",
        "PARSE-CL-HEX",
        "PARSE-CL-EMPTY",
        "PARSE-CL-INNER-SPACE",
    ],
    ("cl-wrap",): ["PARSE-CL-OVERFLOW"],
    ("te-substring",): ["PARSE-TE-NOT-FINAL", "PARSE-TE-OBFUSCATED", "PARSE-TE-UNKNOWN-CODING"],
    ("http10-te", "http10-keepalive"): ["PARSE-TE-HTTP10"],
    ("http10-te", "http10-keepalive", "cl-te-keep"): ["PARSE-TE-HTTP10-WITH-CL"],
    ("ws-colon",): ["PARSE-SPACE-BEFORE-COLON", "PARSE-TAB-BEFORE-COLON"],
    ("ws-colon", "cl-te-keep"): ["PARSE-TE-SPACE-BEFORE-COLON"],
    ("obs-fold-keep",): ["PARSE-OBS-FOLD"],
    ("obs-fold-header",): ["PARSE-WS-AFTER-START-LINE"],
    ("obs-fold-header", "cl-te-keep"): ["PARSE-OBS-FOLD-TE"],
    ("bare-cr",): ["PARSE-BARE-CR-VALUE", "PARSE-BARE-CR-HEADER-END"],
    ("bare-cr", "lenient-version"): ["PARSE-BARE-CR-REQUEST-LINE"],
    ("nul-ok",): ["PARSE-NUL-VALUE"],
    ("lenient-names",): [
        "PARSE-NUL-NAME",
        "PARSE-CTL-NAME",
        "PARSE-NO-COLON",
        "PARSE-EMPTY-NAME",
        "PARSE-SPACE-IN-NAME",
    ],
    ("lenient-method",): ["PARSE-METHOD-INVALID", "PARSE-METHOD-EMPTY"],
    ("lenient-target",): [
        "PARSE-TARGET-NO-SLASH",
        "PARSE-TARGET-FRAGMENT",
        "PARSE-TARGET-CTL",
        "PARSE-TARGET-NUL",
    ],
    ("request-line-rsplit", "lenient-target"): ["PARSE-TARGET-SPACE", "PARSE-VERSION-EXTRA-SPACE"],
    ("lenient-version",): ["PARSE-VERSION-LOWERCASE", "PARSE-VERSION-GARBAGE"],
    ("no-414",): ["PARSE-TARGET-TOO-LONG"],
    ("no-host-check",): [
        "PARSE-HOST-MISSING",
        "PARSE-HOST-DUPLICATE",
        "PARSE-HOST-INVALID",
        "PARSE-HOST-USERINFO",
    ],
    ("http10-host-required",): ["HTTP-HTTP10-NO-HOST"],
    ("chunk-lenient",): [
        "PARSE-CHUNK-SIZE-0X",
        "PARSE-CHUNK-SIZE-LEADING-SPACE",
        "PARSE-CHUNK-SIZE-NEGATIVE",
    ],
    ("chunk-wrap",): ["PARSE-CHUNK-SIZE-OVERFLOW"],
    ("chunk-ext-reject",): [
        "PARSE-CHUNK-EXTENSION",
        "PARSE-CHUNK-EXTENSION-QUOTED",
        "PARSE-CHUNK-EXTENSION-BWS",
    ],
    ("chunk-overrun",): ["PARSE-CHUNK-DATA-OVERRUN"],
    ("lf-lines",): ["PARSE-CHUNK-LF-ONLY"],
    ("chunk-stop-on-garbage",): ["PARSE-CHUNK-SIZE-INVALID", "PARSE-CHUNK-MISSING-LAST"],
    ("trailers-merge",): ["PARSE-TRAILER-NOT-MERGED"],
    ("no-trailers",): ["BODY-CHUNKED-TRAILERS", "PARSE-TRAILER-NOT-MERGED"],
    ("header-cut",): ["PARSE-HEADER-TOO-LARGE"],
    ("headers-truncate",): ["PARSE-HEADERS-TOO-MANY"],
    ("head-timeout",): ["PARSE-HEADER-SECTION-COMPLETE"],
    ("latin-decode",): ["PARSE-OCTETS-NOT-UTF8", "HTTP-HEADER-OBS-TEXT"],
    ("get-body-ignored",): ["PARSE-GET-BODY"],
    ("no-leading-crlf",): ["HTTP-LEADING-CRLF"],
    ("minor-version-reject",): ["HTTP-MINOR-VERSION"],
    ("no-absolute",): ["HTTP-ABSOLUTE-FORM", "HTTP-SCOPE-TYPES-ABSOLUTE-FORM"],
    ("path-no-decode",): ["HTTP-PATH-ENCODED-SLASH"],
    ("path-latin1", "lenient-target"): ["HTTP-PATH-RAW-UTF8"],
    ("split-empty-body",): ["BODY-GET-NO-BODY"],
    ("long-path-cut",): ["HTTP-PATH-LONG"],
    ("empty-query-qmark",): ["HTTP-QUERY-EMPTY"],
    ("query-decoded",): ["HTTP-QUERY-RAW"],
    ("no-trim",): ["HTTP-HEADER-TRIMMED"],
    ("dedupe-headers",): ["HTTP-HEADER-DUPLICATES-CASE"],
    ("client-port-wrong",): ["HTTP-CLIENT-PORT"],
    ("headers-str",): [
        "HTTP-SCOPE-TYPES-GET",
        "HTTP-SCOPE-TYPES-HTTP10",
        "HTTP-SCOPE-TYPES-CHUNKED-POST",
        "HTTP-SCOPE-TYPES-PIPELINED",
        "HTTP-SCOPE-TYPES-EXPECT",
    ],
    ("extra-message",): ["BODY-NO-EXTRA-MESSAGE", "BODY-EMPTY-POST"],
    ("body-flags-false",): [
        "BODY-MORE-BODY-FLAGS",
        "BODY-SLOW-CLIENT",
        "BODY-CHUNKED-DECODED",
    ],
    ("truncated-body-complete",): ["BODY-INCOMPLETE-CL", "BODY-INCOMPLETE-CHUNKED"],
    ("expect-ignore",): ["BODY-EXPECT-100", "BODY-EXPECT-FINAL"],
    ("expect-http10",): ["BODY-EXPECT-HTTP10", "RESP-NO-1XX-TO-HTTP10"],
    ("expect-wait-body",): ["BODY-EXPECT-NOREAD"],
    ("no-disconnect",): ["HTTP-DISCONNECT-PROMPT", "HTTP-DISCONNECT-REPEATED"],
    ("disconnect-once",): ["HTTP-DISCONNECT-REPEATED"],
    ("no-validate",): [
        "APPERR-START-TWICE-RAISES",
        "APPERR-UNKNOWN-TYPE-RAISES",
        "APPERR-STATUS-STR-RAISES",
        "APPERR-HEADER-STR-RAISES",
        "APPERR-MISSING-STATUS-RAISES",
    ],
    ("start-twice-writes",): ["APPERR-START-TWICE-WIRE"],
    ("extra-key-reject",): ["APPERR-EXTRA-KEY-ACCEPTED"],
    ("send-after-disconnect-noop",): ["APPERR-SEND-AFTER-DISCONNECT"],
    ("crash-on-error",): ["APPERR-SERVER-SURVIVES"],
    ("error-200",): ["APPERR-RAISE-BEFORE-START", "APPERR-RETURN-WITHOUT-RESPONSE"],
    ("error-complete",): ["APPERR-RAISE-MID-CHUNKED", "APPERR-RETURN-MID-CHUNKED"],
    ("flush-start", "error-complete"): ["APPERR-RAISE-AFTER-START", "APPERR-RETURN-AFTER-START"],
    ("error-keepalive", "ignore-client-close"): ["APPERR-RAISE-MID-CL", "APPERR-RETURN-MID-CL"],
    ("cl-overrun",): ["APPERR-CONTENT-LENGTH-EXCEEDED"],
    ("error-after-complete-500",): ["APPERR-RAISE-AFTER-COMPLETE"],
    ("late-send",): ["APPERR-BODY-AFTER-COMPLETE", "APPERR-START-AFTER-COMPLETE"],
    ("te-with-cl",): ["RESP-CL-NO-TE", "RESP-CL-KEPT"],
    ("cl-rewrite",): ["RESP-CL-KEPT"],
    ("close-delimited",): ["RESP-STREAM-DELIMITED"],
    ("chunked-to-http10",): ["RESP-STREAM-HTTP10", "RESP-APP-TE-HTTP10"],
    ("empty-chunk",): ["RESP-EMPTY-BODY-MESSAGE"],
    ("head-body",): ["RESP-HEAD-NO-BODY", "RESP-HEAD-STREAM-NO-BODY"],
    ("head-cl-zero",): ["RESP-HEAD-CL-VALUE"],
    ("nocontent-body",): [
        "RESP-204-NO-BODY",
        "RESP-204-STREAM-NO-BODY",
        "RESP-304-NO-BODY",
        "RESP-304-STREAM-NO-BODY",
    ],
    ("204-cl",): ["RESP-204-NO-CONTENT-LENGTH"],
    ("204-chunked",): ["RESP-204-NO-TRANSFER-ENCODING"],
    ("no-date",): ["RESP-DATE-PRESENT", "RESP-DATE-4XX"],
    ("bad-date",): ["RESP-DATE-FORMAT"],
    ("dup-date",): ["RESP-DATE-NOT-DUPLICATED"],
    ("dup-server",): ["RESP-SERVER-NOT-DUPLICATED"],
    ("app-te-passthrough",): ["RESP-APP-TE-IGNORED", "RESP-APP-TE-WITH-CL", "RESP-APP-TE-HTTP10"],
    ("header-injection",): [
        "RESP-APP-HEADER-VALUE-CRLF",
        "RESP-APP-HEADER-VALUE-LF",
        "RESP-APP-HEADER-VALUE-CR",
        "RESP-APP-HEADER-VALUE-NUL",
        "RESP-APP-HEADER-NAME-CRLF",
        "RESP-APP-HEADER-NAME-COLON",
        "RESP-APP-HEADER-NAME-SPACE",
    ],
    ("header-reorder",): ["RESP-HEADER-ORDER"],
    ("no-reason-space",): ["RESP-STATUS-LINE-SPACE"],
    ("version-10",): ["RESP-VERSION-TO-HTTP10"],
    ("buffer-body",): ["RESP-FLUSH-BEFORE-RETURN"],
    ("no-keepalive",): ["CONN-KEEP-ALIVE", "CONN-PIPELINE-ORDER", "CONN-PIPELINE-BODIES"],
    ("ignore-client-close",): ["CONN-CLIENT-CLOSE", "CONN-CLIENT-CLOSE-ANNOUNCED"],
    ("no-close-header",): ["CONN-CLIENT-CLOSE-ANNOUNCED"],
    ("ignore-app-close",): ["CONN-APP-CLOSE"],
    ("unread-body-keep",): [
        "CONN-UNREAD-BODY",
        "CONN-UNREAD-CHUNKED-BODY",
        "CONN-UNREAD-LARGE-BODY",
    ],
    ("half-close-hang",): ["CONN-HALF-CLOSE"],
    ("reset-crash",): ["CONN-CLIENT-RESET"],
}
CLEAN = "broken"
CRASHING = {"crash-on-error", "reset-crash"}


def config_name(faults: tuple[str, ...]) -> str:
    return "broken-" + "_".join(faults)


def server_toml(name: str, faults: tuple[str, ...]) -> str:
    command = ["{python}", str(SERVER), "--fd", "{fd}", "--faults", ",".join(faults), "{app}"]
    return (
        f'name = "{name}"\ndescription = "tests/brokenserver, faults: {", ".join(faults)}"\n'
        f'distribution = "pytest"\nsocket = "fd"\ncommand = {json.dumps(command)}\n'
        "ready_timeout = 20\n\n[offers]\nextensions = []\nhttp2 = false\ntrio = false\n\n"
        "[deviations]\n"
    )


def case_of_requirement() -> dict[str, str]:
    """``SRV-*`` id -> node id of its case (``conformance/FILE::FUNCTION``), read from the
    sources (importing them needs the conformance plugin's ``requirement`` marker)."""
    found: dict[str, str] = {}
    for module_name in CASE_MODULES:
        path = ROOT / "conformance" / f"{module_name}.py"
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test"):
                continue
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and ast.unparse(decorator.func).endswith(
                    "mark.requirement"
                ):
                    for argument in decorator.args:
                        assert isinstance(argument, ast.Constant)
                        found[str(argument.value)] = f"conformance/{module_name}.py::{node.name}"
    return found


def test_every_server_case_has_a_fault() -> None:
    """The fault table names known ids, and lists every case that no fault proves."""
    cases = case_of_requirement()
    targeted = {"SRV-" + short for shorts in FAULTS.values() for short in shorts}
    assert targeted <= set(cases), sorted(targeted - set(cases))
    assert set(cases) - targeted == set(), sorted(set(cases) - targeted)


@pytest.mark.timeout(1200)
def test_each_fault_fails_its_cases_and_the_clean_server_passes(tmp_path: Path) -> None:
    cases = case_of_requirement()
    servers = tmp_path / "servers"
    servers.mkdir()
    (servers / f"{CLEAN}.toml").write_text(server_toml(CLEAN, ()), encoding="utf-8")
    node_ids = [f"{node}[{CLEAN}]" for node in sorted(set(cases.values()))]
    for faults, shorts in FAULTS.items():
        name = config_name(faults)
        (servers / f"{name}.toml").write_text(server_toml(name, faults), encoding="utf-8")
        node_ids += [f"{cases['SRV-' + short]}[{name}]" for short in shorts]
    reports = tmp_path / "reports"
    command = [
        sys.executable,
        "-m",
        "pytest",
        *dict.fromkeys(node_ids),
        f"--servers-dir={servers}",
        f"--report-dir={reports}",
        "-n",
        "2",
        "-q",
        "--rootdir",
        str(ROOT),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1100, check=False
    )
    report = reports / "conformance.json"
    assert report.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    outcomes = {
        (row["requirement"], row["server"]): row["outcome"]
        for row in json.loads(report.read_text(encoding="utf-8"))["results"]
        if row["requirement"].startswith("SRV-")
    }
    clean_failures = sorted(r for (r, s), o in outcomes.items() if s == CLEAN and o != "pass")
    assert clean_failures == [], clean_failures
    missed = []
    for faults, shorts in FAULTS.items():
        # a fault that kills the server makes its case end without verdict: "error"
        accepted = {"fail", "error"} if set(faults) & CRASHING else {"fail"}
        for short in shorts:
            outcome = outcomes.get(("SRV-" + short, config_name(faults)))
            if outcome not in accepted:
                missed.append(f"SRV-{short} with {'+'.join(faults)}: {outcome}")
    assert missed == [], missed
