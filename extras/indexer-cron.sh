#!/usr/bin/env bash
# Cron wrapper for the pacs-indexer agent: runs one command (default `sync`) from the install
# directory (where config/config.json and server.json live), never two at once for the same
# install (flock; the agent also holds a database lock across hosts), appending its JSON logs to a file.
#   INDEXER_HOME  install directory         (default: the parent of this script's folder)
#   INDEXER_LOG   log file                   (default: $INDEXER_HOME/log/indexer.log; the account
#                                            running this needs write access to its folder)
#   INDEXER_BIN   agent command              (default: $INDEXER_HOME/node_modules/.bin/indexer, else `indexer`)
#   INDEXER_LOCK  lock file                  (default: one per install — install directory and
#                                            --config file — in ${TMPDIR:-/tmp}: two centres' agents
#                                            run by one OS user never skip each other's runs)
#   INDEXER_LOCK_WAIT  seconds to wait for a run in progress (default: none, skip at once; the
#                      nightly reconcile waits 600 s, then exits 4 like the agent's own lock)
set -euo pipefail

INDEXER_HOME="${INDEXER_HOME:-$(cd "$(dirname "$0")/.." && pwd)}"
INDEXER_LOG="${INDEXER_LOG:-$INDEXER_HOME/log/indexer.log}"
if [ -z "${INDEXER_BIN:-}" ]; then
  if [ -x "$INDEXER_HOME/node_modules/.bin/indexer" ]; then INDEXER_BIN="$INDEXER_HOME/node_modules/.bin/indexer"; else INDEXER_BIN=indexer; fi
fi
mkdir -p "$(dirname "$INDEXER_LOG")"
cd "$INDEXER_HOME"

# The install this run belongs to: its directory and the --config file it is given, if any.
config_file=""
previous=""
for arg in "$@"; do
  case "$arg" in --config=*) config_file="${arg#--config=}" ;; esac
  if [ "$previous" = "--config" ]; then config_file="$arg"; fi
  previous="$arg"
done
install_key="$(printf '%s\n%s\n' "$(pwd -P)" "$config_file" | cksum | cut -d ' ' -f 1)"
INDEXER_LOCK="${INDEXER_LOCK:-${TMPDIR:-/tmp}/indexer-$(id -u)-$install_key.lock}"

exec 9>"$INDEXER_LOCK"
if [ -n "${INDEXER_LOCK_WAIT:-}" ]; then
  if ! flock -w "$INDEXER_LOCK_WAIT" 9; then
    printf '{"level":50,"time":%s,"msg":"indexer run still active after waiting %s s: gave up"}\n' "$(date +%s000)" "$INDEXER_LOCK_WAIT" >>"$INDEXER_LOG"
    exit 4
  fi
# -n: when the previous pass still runs, skip this one quietly (exit 0): cron will come back.
elif ! flock -n 9; then
  printf '{"level":40,"time":%s,"msg":"previous indexer run still active: skipped"}\n' "$(date +%s000)" >>"$INDEXER_LOG"
  exit 0
fi

INDEXER_LOG_FORMAT="${INDEXER_LOG_FORMAT:-json}" "$INDEXER_BIN" "${@:-sync}" >>"$INDEXER_LOG" 2>&1
