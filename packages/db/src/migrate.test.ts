import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { MIGRATIONS_DIR, MigrationError, migrate, readMigrations } from "./migrate.ts";

const { adminUrl } = inject("minutelyTestDatabaseServer");
const created: string[] = [];

async function freshDatabase(): Promise<string> {
  const name = `minutely_migrate_${process.pid}_${created.length}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`CREATE DATABASE "${name}"`);
  await client.end();
  created.push(name);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  for (const name of created) {
    await query(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
});

describe("migrate", () => {
  it("applies every migration once, recording Prisma's bookkeeping", async () => {
    const url = await freshDatabase();
    const migrations = readMigrations();
    expect(migrations.length).toBeGreaterThan(0);
    const first = await migrate(url);
    expect(first.applied).toEqual(migrations.map((m) => m.name));
    const second = await migrate(url);
    expect(second.applied).toEqual([]);
    const rows = await query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
      url,
      `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(rows.map((r) => [r.migration_name, r.checksum])).toEqual(
      migrations.map((m) => [m.name, m.checksum]),
    );
    expect(rows.every((r) => r.finished_at instanceof Date)).toBe(true);
  });

  it("is safe when several processes migrate at once", async () => {
    const url = await freshDatabase();
    const results = await Promise.all([migrate(url), migrate(url), migrate(url), migrate(url)]);
    const appliedCounts = results.map((r) => r.applied.length).sort();
    expect(appliedCounts).toEqual([0, 0, 0, readMigrations().length]);
    const rows = await query<{ n: string }>(url, `SELECT count(*) AS n FROM "_prisma_migrations"`);
    expect(Number(rows[0]?.n)).toBe(readMigrations().length);
  });

  it("rolls a failing migration back completely and reports it", async () => {
    const url = await freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), "minutely-migrations-"));
    mkdirSync(join(dir, "20200101000000_good"));
    writeFileSync(join(dir, "20200101000000_good", "migration.sql"), `CREATE TABLE "kept" (id int);`);
    mkdirSync(join(dir, "20200102000000_bad"));
    writeFileSync(
      join(dir, "20200102000000_bad", "migration.sql"),
      `CREATE TABLE "half_done" (id int);\nSELECT * FROM "no_such_table";`,
    );
    await expect(migrate(url, { dir })).rejects.toThrow(MigrationError);
    const tables = await query<{ table_name: string }>(
      url,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(["_prisma_migrations", "kept"]);
    const applied = await query<{ migration_name: string }>(
      url,
      `SELECT migration_name FROM "_prisma_migrations"`,
    );
    expect(applied.map((r) => r.migration_name)).toEqual(["20200101000000_good"]);
  });

  it("keeps existing active API keys that share a name apart when it adds the unique index of names", async () => {
    const url = await freshDatabase();
    const before = mkdtempSync(join(tmpdir(), "minutely-migrations-"));
    for (const { name } of readMigrations().filter((m) => m.name < "20261206093147_api_key_active_name")) {
      cpSync(join(MIGRATIONS_DIR, name), join(before, name), { recursive: true });
    }
    await migrate(url, { dir: before });
    await query(
      url,
      `INSERT INTO account (id, name, updated_at) VALUES ('00000000-0000-4000-8000-0000000000a1', 'A', now());
       INSERT INTO api_key (id, account_id, name, prefix, key_hash, created_at, revoked_at) VALUES
         ('00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000a1', 'CI', 'mk_00000001', repeat('1', 64), '2026-01-01', NULL),
         ('00000000-0000-4000-8000-0000000000b2', '00000000-0000-4000-8000-0000000000a1', ' ci ', 'mk_00000002', repeat('2', 64), '2026-01-02', NULL),
         ('00000000-0000-4000-8000-0000000000b3', '00000000-0000-4000-8000-0000000000a1', 'CI', 'mk_00000003', repeat('3', 64), '2026-01-03', '2026-02-01'),
         ('00000000-0000-4000-8000-0000000000b4', '00000000-0000-4000-8000-0000000000a1', 'Ops', 'mk_00000004', repeat('4', 64), '2026-01-04', NULL);`,
    );
    await migrate(url);
    const keys = await query<{ prefix: string; name: string; name_key: string }>(
      url,
      `SELECT prefix, name, name_key FROM api_key ORDER BY prefix`,
    );
    expect(keys).toEqual([
      { prefix: "mk_00000001", name: "CI", name_key: "ci" },
      { prefix: "mk_00000002", name: "ci (mk_00000002)", name_key: "ci (mk_00000002)" },
      { prefix: "mk_00000003", name: "CI", name_key: "ci" },
      { prefix: "mk_00000004", name: "Ops", name_key: "ops" },
    ]);
  });
  it("leaves a card that several trials recorded to the first of them when it makes the trial card unique", async () => {
    const url = await freshDatabase();
    const before = mkdtempSync(join(tmpdir(), "minutely-migrations-"));
    for (const { name } of readMigrations().filter((m) => m.name < "20261207100000_trial_card_unique")) {
      cpSync(join(MIGRATIONS_DIR, name), join(before, name), { recursive: true });
    }
    await migrate(url, { dir: before });
    // Card fp-1 recorded on three subscriptions (two created at the same instant: the id breaks the tie), fp-2
    // on one, and a subscription without a card.
    const sub = (n: number, account: string, fingerprint: string | null, createdAt: string) =>
      `('00000000-0000-4000-8000-0000000000d${n}', '00000000-0000-4000-8000-0000000000${account}', 'sub_${n}',
        '00000000-0000-4000-8000-0000000000e1', 'price_1', 'trialing', '2026-01-01', '2026-02-01',
        ${fingerprint === null ? "NULL" : `'${fingerprint}'`}, '${createdAt}', now())`;
    await query(
      url,
      `INSERT INTO account (id, name, updated_at) VALUES
         ('00000000-0000-4000-8000-0000000000a1', 'A', now()), ('00000000-0000-4000-8000-0000000000a2', 'B', now()),
         ('00000000-0000-4000-8000-0000000000a3', 'C', now()), ('00000000-0000-4000-8000-0000000000a4', 'D', now());
       INSERT INTO subscription_plan (id, name, monthly_price_cents, call_minutes_limit, agents_allowed, updated_at)
         VALUES ('00000000-0000-4000-8000-0000000000e1', 'Pro', 9900, 3000, 5, now());
       INSERT INTO subscription (id, account_id, stripe_subscription_id, plan_id, stripe_price_id, status,
         current_period_start, current_period_end, trial_card_fingerprint, created_at, updated_at) VALUES
         ${sub(3, "a1", "fp-1", "2026-01-02")}, ${sub(2, "a2", "fp-1", "2026-01-01")},
         ${sub(1, "a3", "fp-1", "2026-01-01")}, ${sub(4, "a4", "fp-2", "2026-01-03")},
         ${sub(5, "a4", null, "2026-01-04")};`,
    );
    await migrate(url);
    const rows = await query<{ stripe_subscription_id: string; trial_card_fingerprint: string | null }>(
      url,
      `SELECT stripe_subscription_id, trial_card_fingerprint FROM subscription ORDER BY stripe_subscription_id`,
    );
    expect(rows).toEqual([
      { stripe_subscription_id: "sub_1", trial_card_fingerprint: "fp-1" },
      { stripe_subscription_id: "sub_2", trial_card_fingerprint: null },
      { stripe_subscription_id: "sub_3", trial_card_fingerprint: null },
      { stripe_subscription_id: "sub_4", trial_card_fingerprint: "fp-2" },
      { stripe_subscription_id: "sub_5", trial_card_fingerprint: null },
    ]);
    // And a second subscription with a held card is refused from now on.
    await expect(
      query(
        url,
        `UPDATE subscription SET trial_card_fingerprint = 'fp-1' WHERE stripe_subscription_id = 'sub_5'`,
      ),
    ).rejects.toThrow(/subscription_trial_card_fingerprint_key/);
  });
  it("turns every user's account into a membership, one owner per account, when it adds account_member", async () => {
    const url = await freshDatabase();
    const before = mkdtempSync(join(tmpdir(), "minutely-migrations-"));
    for (const { name } of readMigrations().filter((m) => m.name < "20261207002535_team_members")) {
      cpSync(join(MIGRATIONS_DIR, name), join(before, name), { recursive: true });
    }
    await migrate(url, { dir: before });
    // Account a1 has two users both marked owner (the old column's default), a2 one owner; an admin has none.
    await query(
      url,
      `INSERT INTO account (id, name, updated_at) VALUES
         ('00000000-0000-4000-8000-0000000000a1', 'A', now()), ('00000000-0000-4000-8000-0000000000a2', 'B', now());
       INSERT INTO "user" (id, name, email, account_id, account_role, created_at, updated_at) VALUES
         ('00000000-0000-4000-8000-0000000000c1', 'First', 'first@a.test', '00000000-0000-4000-8000-0000000000a1', 'owner', '2026-01-01', now()),
         ('00000000-0000-4000-8000-0000000000c2', 'Second', 'second@a.test', '00000000-0000-4000-8000-0000000000a1', 'owner', '2026-01-02', now()),
         ('00000000-0000-4000-8000-0000000000c3', 'Only', 'only@b.test', '00000000-0000-4000-8000-0000000000a2', 'owner', '2026-01-03', now()),
         ('00000000-0000-4000-8000-0000000000c4', 'Ops', 'ops@minutely.test', NULL, 'owner', '2026-01-04', now());`,
    );
    await migrate(url);
    const members = await query<{ user_id: string; account_id: string; role: string }>(
      url,
      `SELECT user_id, account_id, role::text FROM account_member ORDER BY user_id`,
    );
    expect(members).toEqual([
      {
        user_id: "00000000-0000-4000-8000-0000000000c1",
        account_id: "00000000-0000-4000-8000-0000000000a1",
        role: "owner",
      },
      {
        user_id: "00000000-0000-4000-8000-0000000000c2",
        account_id: "00000000-0000-4000-8000-0000000000a1",
        role: "member",
      },
      {
        user_id: "00000000-0000-4000-8000-0000000000c3",
        account_id: "00000000-0000-4000-8000-0000000000a2",
        role: "owner",
      },
    ]);
  });
});
