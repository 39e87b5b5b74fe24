"""Harness for the conformance suite: servers, clients, verifiers and reports."""
