#!/bin/bash
# A fresh clone's `make run`: seconds to the health check, to the first page served, and to the web
# process warmed up for the first question; then the environment's size. Stops what it started.
#     bash bench/make_run.sh <repository path or URL> [port]
set -u
repo=${1:?a repository to clone}; port=${2:-8599}
work=$(mktemp -d) && git clone -q "$repo" "$work/repo" && cd "$work/repo" || exit 1
start=$(date +%s.%N)
ASKVIDEO_PORT=$port setsid make run > "$work/run.log" 2>&1 &
pid=$!
since() { echo "$(date +%s.%N) - $start" | bc; }
health=""; page=""; warm=""
for _ in $(seq 1 1200); do
  if [ -z "$health" ] && curl -sf "http://127.0.0.1:$port/_stcore/health" >/dev/null 2>&1; then health=$(since); fi
  if [ -n "$health" ] && [ -z "$page" ] && curl -sf "http://127.0.0.1:$port/" | grep -q '<div id="root">'; then page=$(since); fi
  if [ -n "$page" ] && curl -s "http://127.0.0.1:$port/healthz" | grep -q '"warmed_up": *true'; then warm=$(since); break; fi
  sleep 0.5
done
echo "health check ${health:-never} s, first page ${page:-never} s, warmed up ${warm:-never} s"
du -sh .venv
kill -- -"$(ps -o pgid= "$pid" | tr -d ' ')" 2>/dev/null
sleep 5
cd / && rm -rf "$work"
