#!/usr/bin/env bash
# Run the server in the foreground and, beside it, print a line every HEARTBEAT_SECONDS (5) until it answers on
# HOST:PORT (loading the model and the index takes a while on a first start), then say where it is.
# usage: scripts/serve_until_ready.sh HOST PORT command [args...]
set -u
host=$1
port=$2
shift 2
interval=${HEARTBEAT_SECONDS:-5}
server_shell=$$
echo "==> 启动服务：http://${host}:${port}"
(
  start=$SECONDS
  next=$((start + interval))
  while kill -0 "$server_shell" 2>/dev/null; do
    if (exec 3<>"/dev/tcp/${host}/${port}") 2>/dev/null; then
      echo "==> 服务已就绪：http://${host}:${port}（按 Ctrl+C 停止）"
      exit 0
    fi
    sleep 1
    if (( SECONDS >= next )); then
      echo "    …正在启动服务（加载模型和索引），已用 $((SECONDS - start)) 秒"
      next=$((SECONDS + interval))
    fi
  done
) &
watcher=$!
trap 'kill "$watcher" 2>/dev/null' EXIT
"$@"
