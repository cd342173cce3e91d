#!/usr/bin/env bash
# Run a make target with every Python process's wall clock at a given date, as a machine whose
# clock is set to that date would:  infra/test-on-date.sh "2036-02-29 10:00:00" [target]
# The monotonic clock stays real (a clock change leaves it alone); see infra/wallclock/.
set -euo pipefail
cd "$(dirname "$0")/.."
when=${1:?usage: infra/test-on-date.sh "YYYY-MM-DD HH:MM:SS" [make target]}
target=${2:-test}
make setup
offset=$(( $(date -u -d "$when" +%s) - $(date -u +%s) ))
echo "wall clock moved by ${offset} s to ${when} UTC"
QUITTANCE_WALL_CLOCK_OFFSET=$offset PYTHONPATH="$PWD/infra/wallclock${PYTHONPATH:+:$PYTHONPATH}" \
  make "$target"
