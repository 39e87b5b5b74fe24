"""Tests of the sans-IO multipart decoder.

Every valid body goes through :func:`t_body_reader`: whole, byte by byte, in
fixed-size chunks, and with trailing junk after the close delimiter; the decoded
parts must be the same every time.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from baize.exceptions import MalformedMultipart, RequestEntityTooLarge
from baize.multipart import (
    NEED_DATA,
    TRANSITIONS,
    Data,
    Epilogue,
    Event,
    Field,
    File,
    MultipartDecoder,
    NeedData,
    Preamble,
    State,
    safe_decode,
)

BOUNDARY = b"b0undary"
DELIMITER = b"\r\n--" + BOUNDARY

# A decoded part: (kind, name, filename or None, headers, content).
Part = tuple[str, str, str | None, tuple[tuple[bytes, bytes], ...], bytes]


def feed(
    body_chunks: list[bytes], boundary: bytes = BOUNDARY, charset: str = "utf-8"
) -> list[Event]:
    """Feed chunks then end of input; return every event except NEED_DATA."""
    decoder = MultipartDecoder(boundary, charset)
    events: list[Event] = []
    for chunk in [*body_chunks, None]:
        decoder.receive_data(chunk)
        while True:
            event = decoder.next_event()
            if event is NEED_DATA:
                break
            events.append(event)
    return events


def parts_of(events: list[Event]) -> list[Part]:
    """Group events into parts, checking the event order the module promises."""
    assert events[0] == Preamble()
    assert events[-1] == Epilogue()
    assert Preamble() not in events[1:] and Epilogue() not in events[:-1]
    parts: list[Part] = []
    current: Field | File | None = None
    content = b""
    for event in events[1:-1]:
        if isinstance(event, Field | File):
            assert current is None, "a part started before the previous one ended"
            current, content = event, b""
        else:
            assert isinstance(event, Data)
            assert current is not None, "data outside a part"
            assert event.data or not event.more_data, "empty Data with more_data=True"
            content += event.data
            if not event.more_data:
                if isinstance(current, File):
                    parts.append(("file", current.name, current.filename, current.headers, content))
                else:
                    parts.append(("field", current.name, None, current.headers, content))
                current = None
    assert current is None, "the last part never ended"
    return parts


def t_body_reader(body: bytes, boundary: bytes = BOUNDARY, charset: str = "utf-8") -> list[Part]:
    """Decode ``body`` whole, byte by byte, in 7-byte chunks and with trailing junk."""
    whole = parts_of(feed([body], boundary, charset))
    bytewise = parts_of(feed([body[i : i + 1] for i in range(len(body))], boundary, charset))
    sevens = parts_of(feed([body[i : i + 7] for i in range(0, len(body), 7)], boundary, charset))
    junk = b"\r\n--" + boundary + b"\r\nContent-Disposition: form-data; name=junk\r\n\r\nx"
    with_junk = parts_of(feed([body, junk], boundary, charset))
    assert whole == bytewise == sevens == with_junk
    return whole


def encode(
    parts: list[tuple[list[bytes], bytes]],
    boundary: bytes = BOUNDARY,
    *,
    preamble: bytes = b"",
    epilogue: bytes = b"",
    padding: bytes = b"",
) -> bytes:
    """Build a body from ``(header lines, content)`` pairs."""
    out = [preamble + b"\r\n" if preamble else b""]
    for headers, content in parts:
        out.append(b"--" + boundary + padding + b"\r\n")
        out.extend(line + b"\r\n" for line in headers)
        out.append(b"\r\n" + content + b"\r\n")
    out.append(b"--" + boundary + b"--" + padding)
    out.append(b"\r\n" + epilogue if epilogue else b"")
    return b"".join(out)


def disposition(name: bytes, filename: bytes | None = None) -> bytes:
    line = b'Content-Disposition: form-data; name="' + name + b'"'
    if filename is not None:
        line += b'; filename="' + filename + b'"'
    return line


def field(name: bytes, content: bytes) -> tuple[list[bytes], bytes]:
    return [disposition(name)], content


def simple(parts: list[Part]) -> list[tuple[str, str, str | None, bytes]]:
    return [(kind, name, filename, content) for kind, name, filename, _, content in parts]


# Valid bodies ------------------------------------------------------------------


def test_fields_and_file_round_trip() -> None:
    body = encode(
        [
            field(b"a", b"1"),
            ([disposition(b"f", b"x.txt"), b"Content-Type: text/plain"], b"file\r\ndata"),
            field(b"a", b"2"),
        ]
    )
    parts = t_body_reader(body)
    assert simple(parts) == [
        ("field", "a", None, b"1"),
        ("file", "f", "x.txt", b"file\r\ndata"),
        ("field", "a", None, b"2"),
    ]
    assert parts[1][3] == (
        (b"content-disposition", b'form-data; name="f"; filename="x.txt"'),
        (b"content-type", b"text/plain"),
    )


def test_preamble_is_ignored() -> None:
    body = encode([field(b"a", b"1")], preamble=b"This is a preamble.\r\n--b0undaryX\r\n--b0und")
    assert simple(t_body_reader(body)) == [("field", "a", None, b"1")]


def test_preamble_with_lookalike_then_real_boundary_at_start_of_line() -> None:
    body = b"x--b0undary\r\n" + encode([field(b"a", b"1")])
    assert simple(t_body_reader(body)) == [("field", "a", None, b"1")]


def test_epilogue_is_ignored() -> None:
    body = encode([field(b"a", b"1")], epilogue=b"--b0undary\r\nnot a part\r\n--b0undary--")
    assert simple(t_body_reader(body)) == [("field", "a", None, b"1")]


def test_close_delimiter_without_final_crlf() -> None:
    body = b"--b0undary\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--b0undary--"
    assert simple(t_body_reader(body)) == [("field", "a", None, b"1")]


def test_form_without_parts() -> None:
    assert t_body_reader(b"--b0undary--\r\n") == []
    assert feed([b"--b0undary--"]) == [Preamble(), Epilogue()]


def test_transport_padding_after_boundary() -> None:
    body = encode([field(b"a", b"1"), field(b"b", b"2")], padding=b" \t ")
    assert simple(t_body_reader(body)) == [("field", "a", None, b"1"), ("field", "b", None, b"2")]


def test_empty_field_and_empty_file() -> None:
    body = encode([field(b"e", b""), ([disposition(b"f", b"")], b"")])
    assert simple(t_body_reader(body)) == [("field", "e", None, b""), ("file", "f", "", b"")]


def test_filename_with_escaped_quotes_and_backslashes() -> None:
    body = encode([([disposition(b"f", rb"a \"q\" \\ b.txt")], b"x")])
    assert t_body_reader(body)[0][2] == 'a "q" \\ b.txt'


def test_windows_path_filename_keeps_lone_backslashes() -> None:
    body = encode([([disposition(b"f", rb"C:\dir\new.txt")], b"x")])
    assert t_body_reader(body)[0][2] == "C:\\dir\\new.txt"


def test_filename_star_wins_over_filename() -> None:
    line = (
        b"Content-Disposition: form-data; name=f; "
        b"filename=\"eur.txt\"; filename*=UTF-8''%E2%82%AC.txt"
    )
    assert t_body_reader(encode([([line], b"x")]))[0][2] == "\u20ac.txt"


def test_filename_star_alone_makes_a_file() -> None:
    line = b"Content-Disposition: form-data; name=f; filename*=utf-8'en'a%20b"
    assert simple(t_body_reader(encode([([line], b"x")]))) == [("file", "f", "a b", b"x")]


def test_unquoted_token_parameters_and_odd_spacing() -> None:
    line = b"content-disposition:form-data ;NAME = tok ; Filename=f.bin"
    assert simple(t_body_reader(encode([([line], b"x")]))) == [("file", "tok", "f.bin", b"x")]


def test_semicolon_inside_quoted_name() -> None:
    line = b'Content-Disposition: form-data; name="a; filename=evil"'
    assert simple(t_body_reader(encode([([line], b"x")]))) == [
        ("field", "a; filename=evil", None, b"x")
    ]


def test_non_ascii_names_in_utf8() -> None:
    body = encode([([disposition("na\u00efve \u540d".encode(), "\u00fcber.txt".encode())], b"x")])
    assert simple(t_body_reader(body)) == [("file", "na\u00efve \u540d", "\u00fcber.txt", b"x")]


def test_names_decoded_with_the_given_charset() -> None:
    body = encode([([disposition("caf\u00e9".encode("latin-1"))], b"x")])
    assert t_body_reader(body, charset="latin-1")[0][1] == "caf\u00e9"
    assert t_body_reader(body, charset="utf-8")[0][1] == "caf\ufffd"


def test_boundary_like_data_inside_content() -> None:
    content = b"\r\n--b0undaryX\r\n--b0undary-x\r\n--b0undar\r\n--b0undaryy--\r\n"
    body = encode([field(b"a", content), field(b"b", b"--b0undary--")])
    assert simple(t_body_reader(body)) == [
        ("field", "a", None, content),
        ("field", "b", None, b"--b0undary--"),
    ]


def test_lone_cr_and_lf_in_content() -> None:
    content = b"\r\r\n\n\r-\r\n-\n\r\n\r\n\r"
    assert simple(t_body_reader(encode([field(b"a", content)]))) == [("field", "a", None, content)]


def test_folded_header_line_is_joined() -> None:
    lines = [b"Content-Disposition: form-data;", b'  name="a"']
    assert simple(t_body_reader(encode([(lines, b"x")]))) == [("field", "a", None, b"x")]


def test_boundary_with_special_characters() -> None:
    boundary = b"'()+_,-./:=? x"
    body = encode([field(b"a", b"1")], boundary)
    assert simple(t_body_reader(body, boundary)) == [("field", "a", None, b"1")]


# Malformed bodies --------------------------------------------------------------


def malformed(body: bytes, match: str, *, chunk: int | None = None) -> MalformedMultipart:
    chunks = [body] if chunk is None else [body[i : i + chunk] for i in range(0, len(body), chunk)]
    with pytest.raises(MalformedMultipart) as info:
        feed(chunks)
    assert info.value.status_code == 400
    assert re.search(match, info.value.content or ""), info.value.content
    return info.value


def test_boundary_never_used() -> None:
    malformed(b"just some text\r\nwith lines\r\n", "no boundary line")
    malformed(encode([field(b"a", b"1")], b"other"), "no boundary line")


def test_bare_lf_line_endings_are_not_accepted() -> None:
    malformed(
        b'--b0undary\nContent-Disposition: form-data; name="a"\n\n1\n--b0undary--\n', "boundary"
    )


def test_every_truncation_is_malformed() -> None:
    body = encode([field(b"a", b"1"), ([disposition(b"f", b"x")], b"data")])
    end = body.index(b"--b0undary--") + len(b"--b0undary--")
    for cut in range(end):
        with pytest.raises(MalformedMultipart, match=r"ended|boundary"):
            feed([body[:cut]])
    assert simple(parts_of(feed([body[:end]]))) == [
        ("field", "a", None, b"1"),
        ("file", "f", "x", b"data"),
    ]


def test_truncated_inside_data_says_so() -> None:
    malformed(
        b"--b0undary\r\nContent-Disposition: form-data; name=a\r\n\r\nabc", "before the close"
    )
    malformed(
        b"--b0undary\r\nContent-Disposition: form-data; name=a\r\n", "inside a part's headers"
    )


def test_part_without_name() -> None:
    malformed(encode([([b"Content-Disposition: form-data"], b"x")]), "has no name")
    malformed(encode([([b'Content-Disposition: form-data; filename="a"'], b"x")]), "has no name")


def test_part_without_content_disposition() -> None:
    malformed(encode([([b"Content-Type: text/plain"], b"x")]), "no Content-Disposition")
    malformed(encode([([], b"x")]), "no Content-Disposition")


def test_header_without_colon() -> None:
    malformed(encode([([disposition(b"a"), b"no colon here"], b"x")]), "no field name")
    malformed(encode([([disposition(b"a"), b": empty name"], b"x")]), "no field name")


def test_too_much_transport_padding() -> None:
    body = b"--b0undary" + b" " * 2000 + b"\r\n"
    malformed(body, "padding", chunk=100)


def test_header_block_too_large_raises_before_end_of_input() -> None:
    decoder = MultipartDecoder(BOUNDARY, "utf-8", max_header_size=1024)
    decoder.receive_data(b"--b0undary\r\n" + disposition(b"a") + b"\r\nX-Big: ")
    assert decoder.next_event() == Preamble()
    with pytest.raises(RequestEntityTooLarge, match="1024 bytes") as info:
        for _ in range(100):
            assert decoder.next_event() is NEED_DATA
            decoder.receive_data(b"y" * 100)
    assert info.value.status_code == 413
    assert decoder.state is State.ERROR


def test_complete_header_block_over_limit() -> None:
    body = encode([([disposition(b"a"), b"X-Big: " + b"y" * 2000], b"x")])
    decoder = MultipartDecoder(BOUNDARY, "utf-8", max_header_size=1024)
    decoder.receive_data(body)
    assert decoder.next_event() == Preamble()
    with pytest.raises(RequestEntityTooLarge):
        decoder.next_event()


def test_errors_are_sticky() -> None:
    decoder = MultipartDecoder(BOUNDARY, "utf-8")
    decoder.receive_data(encode([([b"bad"], b"x")]))
    assert decoder.next_event() == Preamble()
    with pytest.raises(MalformedMultipart) as first:
        decoder.next_event()
    with pytest.raises(MalformedMultipart) as second:
        decoder.next_event()
    assert first.value is second.value


@pytest.mark.parametrize("boundary", [b"", b"a\r\nb", b"x" * 201])
def test_unusable_boundary(boundary: bytes) -> None:
    with pytest.raises(MalformedMultipart, match="boundary"):
        MultipartDecoder(boundary, "utf-8")


def test_data_after_end_of_input_is_refused() -> None:
    decoder = MultipartDecoder(BOUNDARY, "utf-8")
    decoder.receive_data(None)
    with pytest.raises(RuntimeError, match="after the end of input"):
        decoder.receive_data(b"x")


# Streaming and state ---------------------------------------------------------------


def test_data_is_released_except_a_possible_delimiter_prefix() -> None:
    decoder = MultipartDecoder(BOUNDARY, "utf-8")
    decoder.receive_data(b"--b0undary\r\n" + disposition(b"a") + b"\r\n\r\n")
    assert isinstance(decoder.next_event(), Preamble)
    assert isinstance(decoder.next_event(), Field)
    released = 0
    sent = 0
    for piece in [b"a" * 1000, b"b" * 999 + b"\r", b"\n--b0und", b"ar", b"z" * 10, b"\r\n--"]:
        decoder.receive_data(piece)
        sent += len(piece)
        while isinstance(event := decoder.next_event(), Data):
            assert event.more_data
            released += len(event.data)
        assert sent - released < len(DELIMITER)
    assert sent - released == 4  # the trailing "\r\n--" may start a delimiter


def test_after_epilogue_everything_is_ignored() -> None:
    decoder = MultipartDecoder(BOUNDARY, "utf-8")
    decoder.receive_data(b"--b0undary--\r\n")
    assert decoder.next_event() == Preamble()
    assert decoder.next_event() == Epilogue()
    assert decoder.state is State.EPILOGUE
    decoder.receive_data(b"x" * 100_000)
    assert decoder.next_event() is NEED_DATA
    decoder.receive_data(None)
    assert decoder.next_event() is NEED_DATA


def test_states_follow_the_transition_table() -> None:
    decoder = MultipartDecoder(BOUNDARY, "utf-8")
    assert decoder.state is State.PREAMBLE
    decoder.receive_data(encode([field(b"a", b"1")]))
    seen = []
    while not isinstance(event := decoder.next_event(), NeedData):
        seen.append((type(event).__name__, decoder.state))
    assert seen == [
        ("Preamble", State.PART_START),
        ("Field", State.PART_DATA),
        ("Data", State.PART_START),
        ("Epilogue", State.EPILOGUE),
    ]
    assert set(TRANSITIONS.values()) <= set(State)


def test_events_are_frozen() -> None:
    event = Data(b"x", True)
    with pytest.raises(AttributeError):
        event.data = b"y"  # type: ignore[misc]


def test_safe_decode_never_raises() -> None:
    assert safe_decode(b"caf\xc3\xa9", "utf-8") == "caf\u00e9"
    assert safe_decode(b"caf\xe9", "utf-8") == "caf\ufffd"
    assert safe_decode(b"caf\xe9", "latin-1") == "caf\u00e9"
    assert safe_decode(b"caf\xc3\xa9", "no-such-charset") == "caf\u00e9"


# Property: any split gives the same parts ------------------------------------------

_PIECES = [
    b"a",
    b"\r",
    b"\n",
    b"-",
    b"--",
    b" ",
    b"\t",
    b"\xff",
    DELIMITER,
    DELIMITER[:7],
    b"b0undary",
]
_contents = st.lists(st.sampled_from(_PIECES), max_size=25).map(b"".join)
_names = st.text(st.characters(exclude_characters="\r\n", exclude_categories=["Cs"]), max_size=12)
# A real delimiter: CRLF--boundary then "--", or transport padding and CRLF.
_REAL_DELIMITER = re.compile(re.escape(DELIMITER) + rb"(?:--|[ \t]*\r\n)")


def _quote(name: str) -> bytes:
    return b'"' + name.encode().replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=st.lists(st.tuples(_names, st.none() | _names, _contents), max_size=5),
    preamble=_contents,
    epilogue=_contents,
    padding=st.sampled_from([b"", b" ", b"\t \t"]),
    data=st.data(),
)
def test_any_split_decodes_the_same(
    specs: list[tuple[str, str | None, bytes]],
    preamble: bytes,
    epilogue: bytes,
    padding: bytes,
    data: st.DataObject,
) -> None:
    for _, _, content in specs:
        assume(_REAL_DELIMITER.search(content + b"\r\n") is None)
    # The preamble must not hold the first boundary line itself.
    assume(
        re.search(re.escape(b"--" + BOUNDARY) + rb"(?:--|[ \t]*\r\n)", preamble + b"\r\n") is None
    )
    parts = []
    for name, filename, content in specs:
        line = b"Content-Disposition: form-data; name=" + _quote(name)
        if filename is not None:
            line += b"; filename=" + _quote(filename)
        parts.append(([line], content))
    body = encode(parts, preamble=preamble, epilogue=epilogue, padding=padding)
    cuts = sorted(data.draw(st.sets(st.integers(0, len(body)), max_size=20)))
    chunks = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    decoded = simple(parts_of(feed(chunks)))
    expected = [("field" if f is None else "file", n, f, c) for n, f, c in specs]
    assert decoded == expected
    assert simple(parts_of(feed([body]))) == expected


@pytest.mark.parametrize(
    "line",
    [
        b'Content-Disposition: form-data; name="a"; filename="b.txt"',
        b'CONTENT-DISPOSITION :\tform-data ; NAME="a";filename="b.txt" ',
        b'content-disposition: form-data; name="a"; filename="b.txt"; size=3',
        b'content-disposition: form-data; filename="b.txt"; name="a"',
    ],
)
def test_usual_and_general_header_paths_agree(line: bytes) -> None:
    alone = t_body_reader(encode([([line], b"x")]))
    with_type = t_body_reader(encode([([line, b"Content-Type: text/plain"], b"x")]))
    assert simple(alone) == simple(with_type) == [("file", "a", "b.txt", b"x")]
    assert alone[0][3] == with_type[0][3][:1]
    assert alone[0][3][0][1] == line.partition(b":")[2].strip(b" \t")


def test_bytearray_and_memoryview_chunks() -> None:
    body = encode([field(b"a", b"hello")])
    decoder = MultipartDecoder(BOUNDARY, "utf-8")
    decoder.receive_data(bytearray(body[:20]))
    decoder.receive_data(memoryview(body)[20:])
    decoder.receive_data(None)
    events: list[Event] = []
    while not isinstance(event := decoder.next_event(), NeedData):
        events.append(event)
    assert simple(parts_of(events)) == [("field", "a", None, b"hello")]


def test_unknown_charset_falls_back_to_utf8() -> None:
    body = encode([field("\u00e9".encode(), b"x")])
    assert t_body_reader(body, charset="no-such-charset")[0][1] == "\u00e9"
