"""Throughput of ``baize.multipart.MultipartDecoder`` against python-multipart.

Two bodies: one 50 MB file part of random bytes, and 1,000 small text fields.
Both parsers get the same body cut into the same 64 KiB chunks. Each side does
the least a real form parser must do: ours reads every event and counts the
data; python-multipart's ``MultipartParser`` gets callbacks that keep the header
names and values and count the data (ours also parses ``Content-Disposition``,
which python-multipart leaves to its caller). Rounds interleave the two (A B A B)
so that noise on a shared machine hits both alike, and time is the process's
CPU time (``time.process_time``), which other processes on the machine do not
inflate; the median of each is shown.

Run: ``python -m benchmarks.bench_multipart [--rounds 11] [--size-mb 50]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

from python_multipart.multipart import MultipartParser

from baize.multipart import NEED_DATA, Data, Epilogue, Field, File, MultipartDecoder

BOUNDARY = b"----bench7MA4YWxkTrZu0gW"
CHUNK = 64 * 1024

# (parts, data bytes): what a parser saw; both sides must agree.
Outcome = tuple[int, int]


def file_body(size: int) -> bytes:
    """One file part of ``size`` random bytes (no delimiter can appear in it)."""
    data = os.urandom(size)
    assert b"\r\n--" + BOUNDARY not in data
    return (
        b"--" + BOUNDARY + b"\r\n"
        b'Content-Disposition: form-data; name="upload"; filename="big.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n--" + BOUNDARY + b"--\r\n"
    )


def fields_body(count: int) -> bytes:
    """``count`` small text fields, like a long HTML form."""
    parts = [
        b"--" + BOUNDARY + b"\r\n"
        b'Content-Disposition: form-data; name="field%d"\r\n\r\n'
        % i
        + b"value number %d of a long form" % i
        + b"\r\n"
        for i in range(count)
    ]
    return b"".join(parts) + b"--" + BOUNDARY + b"--\r\n"


def chunks_of(body: bytes) -> list[bytes]:
    return [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)]


def run_baize(chunks: list[bytes]) -> Outcome:
    decoder = MultipartDecoder(BOUNDARY, "utf-8")
    parts = size = 0
    for chunk in [*chunks, None]:
        decoder.receive_data(chunk)
        while True:
            event = decoder.next_event()
            if type(event) is Data:
                size += len(event.data)
            elif event is NEED_DATA:
                break
            elif type(event) is Field or type(event) is File:
                parts += 1
            elif type(event) is Epilogue:
                break
    return parts, size


def run_python_multipart(chunks: list[bytes]) -> Outcome:
    parts = size = 0
    headers: list[tuple[bytes, bytes]] = []
    name = bytearray()
    value = bytearray()

    def on_part_begin() -> None:
        nonlocal parts
        parts += 1
        headers.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        nonlocal size
        size += end - start

    def on_header_field(data: bytes, start: int, end: int) -> None:
        name.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        value.extend(data[start:end])

    def on_header_end() -> None:
        headers.append((bytes(name).lower(), bytes(value)))
        name.clear()
        value.clear()

    parser = MultipartParser(
        BOUNDARY,
        {
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
        },
    )
    for chunk in chunks:
        parser.write(chunk)
    parser.finalize()
    return parts, size


def bench(label: str, chunks: list[bytes], repeat: int, rounds: int) -> tuple[float, float]:
    """Time both parsers, interleaved; return their median MB/s."""
    total = sum(map(len, chunks)) * repeat / 1e6
    runners: dict[str, Callable[[list[bytes]], Outcome]] = {
        "baize": run_baize,
        "python-multipart": run_python_multipart,
    }
    outcomes = {name: runner(chunks) for name, runner in runners.items()}  # also warms up
    assert outcomes["baize"] == outcomes["python-multipart"], outcomes
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(rounds):
        for name, runner in runners.items():
            start = time.process_time()
            for _ in range(repeat):
                runner(chunks)
            times[name].append(time.process_time() - start)
    ours = total / statistics.median(times["baize"])
    theirs = total / statistics.median(times["python-multipart"])
    print(
        f"{label:<28} baize {ours:9.1f} MB/s   python-multipart {theirs:9.1f} MB/s"
        f"   ratio {ours / theirs:6.2f}x   ({outcomes['baize'][0]} parts, {total:.1f} MB/round)"
    )
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--size-mb", type=int, default=50)
    parser.add_argument("--fields", type=int, default=1000)
    args = parser.parse_args()
    print(f"chunk size {CHUNK} bytes, {args.rounds} interleaved rounds, medians")
    bench(
        f"{args.size_mb} MB file part",
        chunks_of(file_body(args.size_mb * 1_000_000)),
        1,
        args.rounds,
    )
    bench(f"{args.fields} small fields", chunks_of(fields_body(args.fields)), 20, args.rounds)


if __name__ == "__main__":
    main()
