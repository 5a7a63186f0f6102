#!/usr/bin/env bash
# Install moto's server (PyPI `moto[server]`, with boto3, into a venv): the Route53 API that
# tests/integration/dns_route53.rs talks to (`moto_server`) and the bridge that copies its
# records into bind9 (boto3); the test calls this too. moto_server has no --version, so the
# venv's python3 is the program checked (pip-tool.sh marks only a finished install).
# The venv path is $CERTWRIGHT_MOTO_VENV (default /tmp/certwright-moto-venv).
set -euo pipefail
exec bash "$(dirname "$0")/pip-tool.sh" \
    "${CERTWRIGHT_MOTO_VENV:-/tmp/certwright-moto-venv}" 'moto[server]' python3
