// The PostgreSQL-backed job queue (graphile-worker) lives in the same database, in its own schema
// `graphile_worker`. Installing or upgrading it is part of preparing a database, like the migrations.
import { Logger, runMigrations } from "graphile-worker";
import { type MigrateResult, migrate } from "./migrate.ts";

const silent = new Logger(() => () => {});

export async function installJobQueue(connectionString: string): Promise<void> {
  await runMigrations({ connectionString, logger: silent });
}

/** Applies pending migrations and installs or upgrades the job queue's schema. */
export async function prepareDatabase(
  connectionString: string,
  options: { log?: (line: string) => void } = {},
): Promise<MigrateResult> {
  const result = await migrate(connectionString, options);
  await installJobQueue(connectionString);
  return result;
}
