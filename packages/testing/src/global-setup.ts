// vitest globalSetup for tests that need the whole back end: real PostgreSQL (a migrated, seeded template
// database cloned per test file) and the Stripe emulator.
import dbSetup from "@minutely/db/vitest-global-setup";
import type { TestProject } from "vitest/node";
import { startStripeEmulatorProcess } from "./emulator.ts";

declare module "vitest" {
  export interface ProvidedContext {
    minutelyStripeEmulatorUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stopDatabase = await dbSetup(project);
  try {
    const emulator = await startStripeEmulatorProcess();
    project.provide("minutelyStripeEmulatorUrl", emulator.url);
    return async () => {
      await emulator.stop();
      await stopDatabase();
    };
  } catch (error) {
    await stopDatabase();
    throw error;
  }
}
