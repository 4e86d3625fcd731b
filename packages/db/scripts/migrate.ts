// `pnpm db:migrate`: applies pending migrations to DATABASE_URL and installs/upgrades the job queue schema
// (works offline; safe to run from several instances at once).
import { prepareDatabase } from "../src/queue.ts";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error(
    "DATABASE_URL is not set. Set it to the PostgreSQL database to migrate (pnpm dev migrates its own).",
  );
  process.exit(2);
}
try {
  const result = await prepareDatabase(url, { log: (line) => console.log(line) });
  console.log(
    result.applied.length === 0
      ? "database is up to date"
      : `applied ${result.applied.length} migration(s): ${result.applied.join(", ")}`,
  );
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
