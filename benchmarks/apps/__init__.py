"""Benchmark ASGI apps: one module per implementation, one attribute per scenario.

Every module (``raw``, ``baize_impl``, ``starlette_impl``) exposes the same names:
``hello``, ``json_router``, ``file``, ``range_file``, ``sse``, ``websocket`` and
``big_file``, so a server is started with ``benchmarks.apps.<module>:<name>``.
"""
