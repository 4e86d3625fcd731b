#!/bin/sh
# Stand-in for Prisma's native schema engine, which cannot be downloaded offline.
# `prisma generate` never calls it; anything that does gets a clear failure instead of a silent no-op.
echo "The native Prisma schema engine is not available here; use 'pnpm db:migrate' (offline migration runner)." >&2
exit 1
