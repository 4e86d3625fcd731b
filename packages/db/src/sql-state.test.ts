// sqlStateOf finds PostgreSQL's SQLSTATE wherever an error carries it: node-postgres's `code`, the driver
// adapter's `originalCode` inside a Prisma error, or a cause further down; Prisma's own codes are not one.
import { describe, expect, it } from "vitest";
import { sqlStateOf } from "./client.ts";
import { testDatabase } from "./vitest.ts";

const { db } = await testDatabase();

describe("sqlStateOf", () => {
  it("reads a foreign-key violation from a real Prisma raw query", async () => {
    const error = await db.$executeRaw`
      INSERT INTO agent (id, account_id, name, active, created_at, updated_at)
      VALUES (gen_random_uuid(), gen_random_uuid(), 'orphan', true, now(), now())`.catch((e: unknown) => e);
    expect(sqlStateOf(error)).toBe("23503");
  });

  it("reads node-postgres's code and a cause's, and takes no Prisma code for a SQLSTATE", () => {
    expect(sqlStateOf({ code: "40P01" })).toBe("40P01");
    expect(sqlStateOf(new Error("wrapped", { cause: { code: "23505" } }))).toBe("23505");
    expect(sqlStateOf({ code: "P2010", meta: {} })).toBeUndefined();
    expect(sqlStateOf({ code: "P0001" })).toBe("P0001");
    expect(sqlStateOf(new Error("no code"))).toBeUndefined();
    expect(sqlStateOf("23503")).toBeUndefined();
  });
});
