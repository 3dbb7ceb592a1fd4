#!/usr/bin/env bash
# `make serve`: the app under gunicorn, with production settings, or not at all.
#
#   1. Settings come from the environment, then from $ENV_FILE (default .env; see .env.example)
#      for every variable the environment does not set already (scripts/load-env.sh).
#   2. APP_ENV=production, always.
#   3. `flask --app app check-deploy`: any deploy.E… error and gunicorn is not started (exit 1).
#   4. gunicorn with $WORKERS (default 4) workers on $BIND (default 127.0.0.1:$PORT, PORT 5000);
#      GUNICORN_CMD_ARGS adds gunicorn options (gunicorn reads it itself).
#
# The database must be set up first (`flask --app app setup`, which never loads demo data in
# production) and hold an administrator (`flask fab create-admin`); see README "Running it for real".
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}

source scripts/load-env.sh

export APP_ENV=production
if ! "$BIN/flask" --app app check-deploy; then
    echo "拒绝启动：请先修正上面列出的不安全项 / refusing to start: fix the deploy.E… findings above" >&2
    exit 1
fi
WORKERS=${WORKERS:-4}
BIND=${BIND:-127.0.0.1:${PORT:-5000}}
echo "gunicorn: $WORKERS workers on $BIND (APP_ENV=production)"
exec "$BIN/gunicorn" --workers "$WORKERS" --bind "$BIND" 'app:create_app()'
