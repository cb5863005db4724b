#!/usr/bin/env bash
# npm run lint: Prettier and ESLint side by side. Each is single-threaded (ESLint's own --concurrency is slower
# here: every thread builds the type-checked program again), so on two cores together they take about as long as
# ESLint alone. Both always run to the end; either failing fails the lint.
set -u
prettier --check . &
formatting=$!
eslint .
rules=$?
wait "$formatting"
format=$?
exit $((rules != 0 || format != 0))
