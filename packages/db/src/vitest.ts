import { afterAll, inject } from "vitest";
import { createTestDatabase, type TestDatabase } from "./testing.ts";
import "./vitest-global-setup.ts";

/** A fresh migrated and seeded database for this test file, dropped after the file's tests. */
export async function testDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase(inject("minutelyTestDatabaseServer"));
  afterAll(() => database.drop());
  return database;
}
