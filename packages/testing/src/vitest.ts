import "@minutely/db/vitest";
import type { Browser } from "playwright-core";
import { afterAll, inject } from "vitest";
import { launchBrowser } from "./browser.ts";
import { type Stack, type StackOptions, startStack } from "./stack.ts";

/** The real API (and built SPAs) on a fresh test database for this test file; stopped after it. */
export async function testStack(options: StackOptions = {}): Promise<Stack> {
  const stack = await startStack(inject("minutelyTestDatabaseServer"), options);
  afterAll(() => stack.stop());
  return stack;
}

/** A headless Chromium for this test file; closed after it. */
export async function testBrowser(): Promise<Browser> {
  const browser = await launchBrowser();
  afterAll(() => browser.close());
  return browser;
}
