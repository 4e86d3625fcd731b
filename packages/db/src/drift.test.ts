import { readFileSync } from "node:fs";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { describeSchema } from "./catalog-dump.ts";
import { migrate } from "./migrate.ts";
import { diffSchemas } from "./schema-engine.ts";
import { SCHEMA_PATH, SNAPSHOT_PATH, stripSnapshotHeader } from "./schema-files.ts";

const { adminUrl } = inject("minutelyTestDatabaseServer");
const created: string[] = [];

async function freshDatabase(label: string): Promise<string> {
  const name = `minutely_drift_${label}_${process.pid}_${created.length}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`CREATE DATABASE "${name}"`);
  await client.end();
  created.push(name);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

afterAll(async () => {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  for (const name of created) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await client.end();
});

describe("schema.prisma and prisma/migrations agree (no drift)", () => {
  const schema = readFileSync(SCHEMA_PATH, "utf8");

  it("has no schema change without a migration", async () => {
    const snapshot = stripSnapshotHeader(readFileSync(SNAPSHOT_PATH, "utf8"));
    const pending = await diffSchemas({ connectionString: adminUrl, from: snapshot, to: schema });
    expect(pending.trim(), "schema.prisma changed: run `pnpm db:migration:create <name>`").toMatch(
      /^(-- This is an empty migration\.)?$/,
    );
  });

  /** CHECK constraints the migrations add by hand (table, then name), sorted as describeSchema lists them. */
  const SQL_ONLY_CHECKS = [
    "account account_auto_top_up_check ",
    "coupon coupon_duration_check ",
    "coupon coupon_max_redemptions_check ",
    "coupon coupon_off_check ",
    "invoice_adjustment invoice_adjustment_amount_check ",
    "minute_pack minute_pack_terms_check ",
    "pack_draw pack_draw_minutes_check ",
    "pack_grant pack_grant_remaining_check ",
    "promotion_code promotion_code_key_check ",
    "promotion_code promotion_code_max_redemptions_check ",
    "subscription subscription_currency_check ",
    "subscription_pause_span subscription_pause_span_ends_check ",
    "subscription_plan subscription_plan_trial_days_check ",
    "subscription_plan_price subscription_plan_price_amounts_check ",
    "usage_period_rollup usage_period_rollup_pack_minutes_drawn_check ",
  ];

  it("builds the same database from the migrations as from schema.prisma", async () => {
    const fromMigrations = await freshDatabase("migrations");
    await migrate(fromMigrations);
    const fromSchema = await freshDatabase("schema");
    const sql = await diffSchemas({ connectionString: adminUrl, from: null, to: schema });
    const client = new pg.Client({ connectionString: fromSchema });
    await client.connect();
    await client.query(sql);
    await client.end();

    const expected = await describeSchema(fromSchema);
    expect(expected.columns.length).toBeGreaterThan(10);
    // Partitioning is the migrations' own addition (Prisma cannot describe it): everything else is equal.
    expect(expected.partitioned).toEqual([]);
    // So are CHECK constraints (Prisma cannot declare them): the ones below, and no others.
    const described = await describeSchema(fromMigrations);
    const checks = described.constraints.filter((c) => SQL_ONLY_CHECKS.some((name) => c.startsWith(name)));
    expect(checks.map((c) => SQL_ONLY_CHECKS.find((name) => c.startsWith(name)))).toEqual(SQL_ONLY_CHECKS);
    expect({ ...described, constraints: described.constraints.filter((c) => !checks.includes(c)) }).toEqual({
      ...expected,
      partitioned: ["usage_event RANGE (started_at)"],
    });
  });
});
