#!/bin/sh
# Install the load generators the benchmarks use, from Debian packages:
# wrk (HTTP/1.1) and h2load (HTTP/2, in nghttp2-client).
set -eu
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
$SUDO apt-get update
$SUDO apt-get install -y wrk nghttp2-client
wrk -v 2>&1 | head -n 1 || true
h2load --version 2>&1 | head -n 1 || true
