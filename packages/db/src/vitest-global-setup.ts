// vitest globalSetup shared by every package with database-backed tests:
//   test: { globalSetup: ["@minutely/db/vitest-global-setup"] }
// Test files then call `testDatabase()` from "@minutely/db/vitest".
import type { TestProject } from "vitest/node";
import { startTestDatabaseServer, type TestDatabaseServer } from "./testing.ts";

declare module "vitest" {
  export interface ProvidedContext {
    minutelyTestDatabaseServer: TestDatabaseServer;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { server, teardown } = await startTestDatabaseServer({ DATABASE_URL: process.env.DATABASE_URL });
  project.provide("minutelyTestDatabaseServer", server);
  return teardown;
}
