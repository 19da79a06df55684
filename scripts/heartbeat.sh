#!/usr/bin/env bash
# Run one long step of `make install` / `make serve` (pip, the model export, the first ingest) and print a line
# every HEARTBEAT_SECONDS (5) until it ends, so a first start is never silent for long. Exits with the step's status.
# usage: scripts/heartbeat.sh "what is being done" command [args...]
set -u
label=$1
shift
interval=${HEARTBEAT_SECONDS:-5}
echo "==> ${label}"
start=$SECONDS
"$@" &
pid=$!
trap 'kill "$pid" 2>/dev/null; exit 130' INT TERM
next=$((start + interval))
while kill -0 "$pid" 2>/dev/null; do
  sleep 1
  if (( SECONDS >= next )) && kill -0 "$pid" 2>/dev/null; then
    echo "    …${label}，已用 $((SECONDS - start)) 秒"
    next=$((SECONDS + interval))
  fi
done
wait "$pid"
status=$?
if (( status == 0 )); then
  echo "    完成：${label}（$((SECONDS - start)) 秒）"
else
  echo "    失败：${label}（退出码 ${status}）" >&2
fi
exit "$status"
