#!/usr/bin/env bash
# Time ccmdesk's GUI from launch to its first interactive window (sign-in).
#
#     xvfb-run -a -s "-screen 0 1600x1000x24" packaging/gui-start-time.sh dist/ccmdesk/ccmdesk DB_URL [SHOT.png]
#
# Needs an X display (xvfb-run gives one) and xwininfo (x11-utils).  Polls the window tree every
# 20 ms: the first window is the "Opening the practice…" shell (titled "ccmdesk"); the first
# interactive one is the sign-in dialog ("Sign in — ccmdesk"; "Set up ccmdesk" on a database
# without users), shown once the database is open and checked.  The main window ("ccmdesk —
# <practice>") needs a password, which this script does not type; signin_bench.py measures
# sign-in to main window.  Prints both times, optionally saves a screenshot (ImageMagick's
# import), closes the program, and exits 1 if no interactive window appeared within 60 s.
set -uo pipefail
binary="$1" db="$2" shot="${3:-}"
log=$(mktemp)
start=$(date +%s%N)
"$binary" --db "$db" >"$log" 2>&1 &
pid=$!
first="" main=""
for _ in $(seq 1 3000); do
  titles=$(xwininfo -root -tree 2>/dev/null | grep -E '^ +0x[0-9a-f]+ "' | grep -v -e 'Qt Selection Owner' -e 'Qt Client Leader')
  elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
  [ -z "$first" ] && grep -q '"ccmdesk"' <<<"$titles" && first=$elapsed
  if grep -q -e '"ccmdesk — ' -e '"Sign in — ccmdesk"' -e '"Set up ccmdesk"' <<<"$titles"; then
    main=$elapsed; break
  fi
  kill -0 "$pid" 2>/dev/null || break
  [ "$elapsed" -gt 60000 ] && break
  sleep 0.02
done
if [ -n "$main" ]; then
  printf 'GUI start: first window after %d ms, sign-in window after %d ms\n' "${first:-$main}" "$main"
  if [ -n "$shot" ] && command -v import >/dev/null; then sleep 1; import -window root "$shot"; fi
fi
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
if [ -z "$main" ]; then
  echo "GUI start: the sign-in window did not appear; ccmdesk said:" >&2
  cat "$log" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
