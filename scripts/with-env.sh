#!/usr/bin/env bash
# Run a command with the settings of .env (ENV_FILE) added to the environment, the way
# `make serve` reads them, e.g.
#   scripts/with-env.sh .venv/bin/flask --app app setup
#   scripts/with-env.sh .venv/bin/flask fab create-admin
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/load-env.sh
exec "$@"
