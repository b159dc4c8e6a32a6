#!/usr/bin/env bash
# Everything CI runs: setup, typecheck, lint, and the whole jest suite against real PostgreSQL,
# MariaDB and Kafka servers that the harness starts (and stops) itself.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
pnpm run --silent typecheck
pnpm run --silent lint
pnpm exec jest --ci "$@"
