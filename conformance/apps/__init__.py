"""Scenario apps run inside the server process (copied as package ``conformance_apps``).

Modules here import only the standard library and the implementation under test.
"""
