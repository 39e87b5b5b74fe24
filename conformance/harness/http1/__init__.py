"""A raw-socket HTTP/1.1 client for the cases where exact bytes matter.

Import it through :mod:`conformance.harness.rawhttp`, which re-exports the
public names. The modules, from the bottom layer up:

* :mod:`.syntax`: the RFC 9110/9112 grammar (tokens, field lines, status line).
* :mod:`.errors`: :class:`FramingError`, :class:`ResponseTimeout`,
  :class:`ServerClosedConnection`.
* :mod:`.events`: what the parser returns, plus the ``NEED_DATA`` / ``PAUSED``
  sentinels.
* :mod:`.chunked`: the chunked transfer coding, read and written.
* :mod:`.parser`: :class:`ResponseParser`, sans-IO, in the style of h11.
* :mod:`.response`: :class:`RawResponse` and :func:`parse_response`.
* :mod:`.request`: :func:`build_request`.
* :mod:`.connection`: :class:`Connection` and :func:`exchange` (blocking sockets,
  every read bounded by a timeout and a total deadline).
* :mod:`.pipelining`: :func:`pipeline` and :func:`sequential` on one connection.
* :mod:`.misbehaving`: clients that stop mid-request, leave mid-response or
  send arbitrary bytes.
"""
