#!/usr/bin/env bash
# The committed paper results (results/paper), computed on a GPU machine:
#
#   scripts/paper_results.sh OUT          # everything: world, runs, results -> OUT/results_paper.tgz
#   PHASE=train TRAIN_LIMIT=520 scripts/paper_results.sh OUT   # as much training as fits in 520 s
#   RESULTS_LIMIT=400 scripts/paper_results.sh OUT              # results computed so far kept for the next call
#
# Trains the paper profile's runs from the synthetic world built in memory
# (HYDROLIB_WORLD_IN_MEMORY) while the world's netCDF files, which chapters 1, 2 and 8 read, are
# written beside the training by a low-priority process of its own session (it outlives one call
# of a machine lent by the call). Runs and world stay in $HYDROLIB_CACHE, so a second call goes on
# where the first stopped. Then every chapter's results (python -m hydrolib results), packed for
# the repository. Each phase's seconds are in OUT/phases.log.
set -uo pipefail
OUT=${1:-${OUT:-/tmp/paper-results}}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HYDROLIB_WORLD_IN_MEMORY=1 HYDROLIB_CACHE=${HYDROLIB_CACHE:-/tmp/hydrolib-cache}
PY=${PY:-python3}
PHASE=${PHASE:-all}
WORLD=$HYDROLIB_CACHE/synthetic/seed0_1991-2020  # where the paper profile's data settings look for it
phase() { echo "$(date -u +%H:%M:%S) $*" | tee -a "$OUT/phases.log"; }

if [ ! -f "$WORLD/1/synthetic_manifest.json" ] && ! pgrep -f "hydrolib synthetic $WORLD" >/dev/null; then
  phase "world files: started"
  setsid nice -n 19 "$PY" -m hydrolib synthetic "$WORLD" --resolution 1 --years 1991 2020 \
    >>"$OUT/world.log" 2>&1 </dev/null &
fi
if [ "$PHASE" = train ] || [ "$PHASE" = all ]; then
  phase "training: started"
  timeout "${TRAIN_LIMIT:-86400}" "$PY" -m hydrolib run-all --profile paper --device cuda --quiet \
    >>"$OUT/train.log" 2>&1
  phase "training: ended ($?; 124: stopped at TRAIN_LIMIT, the runs stored are kept)"
  nvidia-smi --query-gpu=memory.used,memory.total --format=csv,noheader | tee -a "$OUT/phases.log"
fi
if [ "$PHASE" = results ] || [ "$PHASE" = all ]; then
  while pgrep -f "hydrolib synthetic $WORLD" >/dev/null; do sleep 3; done
  phase "world files: ready"
  # results/paper lies in the working tree, which a lent machine replaces between calls: the
  # bundles computed so far are kept in the cache and only the missing ones are computed, each
  # written as soon as it is done, so a call stopped at RESULTS_LIMIT loses only the one in hand
  KEPT=$HYDROLIB_CACHE/results-paper-kept
  mkdir -p "$KEPT" results/paper
  cp -a "$KEPT"/. results/paper/
  MISSING=$("$PY" -c "import hydrolib.study.chapters, pathlib
from hydrolib.study.results import RESULTS
print(' '.join(n for n in RESULTS if not (pathlib.Path('results/paper')/n/'values.json').exists()))")
  phase "results: started (missing: ${MISSING:-none})"
  if [ -n "$MISSING" ]; then
    # shellcheck disable=SC2086
    timeout "${RESULTS_LIMIT:-86400}" "$PY" -m hydrolib results --profile paper --device cuda --only $MISSING \
      >>"$OUT/results.log" 2>&1
    phase "results: ended ($?; 124: stopped at RESULTS_LIMIT, the bundles written are kept)"
  fi
  cp -a results/paper/. "$KEPT"/
  tar czf "$OUT/results_paper.tgz" results/paper && du -sh results/paper "$OUT/results_paper.tgz" | tee -a "$OUT/phases.log"
fi
