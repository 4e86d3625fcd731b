import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Stripe from "stripe";
import { afterEach, describe, expect, it } from "vitest";
import { startTestEmulator } from "./testing.ts";

const require = createRequire(import.meta.url);
const tsxCli = join(require.resolve("tsx/package.json"), "..", "dist", "cli.mjs");
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      const newline = buffer.indexOf("\n");
      if (newline >= 0) resolve(buffer.slice(0, newline));
    });
    child.on("exit", (code) => reject(new Error(`exited early with ${code}`)));
  });
}

describe("CLI (src/main.ts)", () => {
  it("prints the listening line first, serves the API and exits cleanly on SIGTERM", {
    timeout: 30_000,
  }, async () => {
    const child = spawn(process.execPath, [tsxCli, "src/main.ts"], {
      cwd: join(import.meta.dirname, ".."),
      env: {
        ...process.env,
        STRIPE_EMULATOR_PORT: "0",
        STRIPE_EMULATOR_WEBHOOK_URL: "http://127.0.0.1:9/api/webhooks/stripe",
        STRIPE_EMULATOR_WEBHOOK_SECRET: "whsec_dev_cli_test",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    const line = JSON.parse(await firstLine(child)) as { event: string; url: string; apiVersion: string };
    expect(line.event).toBe("listening");
    expect(line.apiVersion).toBe(Stripe.API_VERSION);
    const url = new URL(line.url);
    const stripe = new Stripe("sk_test_cli", {
      host: url.hostname,
      port: Number(url.port),
      protocol: "http",
    });
    expect((await stripe.customers.create({ email: "cli@minutely.test" })).id).toMatch(/^cus_/);
    const endpoints = (await fetch(`${line.url}/_emulator/webhook_endpoints`).then((r) => r.json())) as {
      data: { url: string; secret: string }[];
    };
    expect(endpoints.data).toEqual([
      expect.objectContaining({
        url: "http://127.0.0.1:9/api/webhooks/stripe",
        secret: "whsec_dev_cli_test",
      }),
    ]);
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});

describe("state file", () => {
  it("keeps data across restarts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stripe-emulator-"));
    dirs.push(dir);
    const stateFile = join(dir, "state.json");
    const first = await startTestEmulator({ stateFile });
    const customer = await first.stripe.customers.create({ email: "persist@minutely.test" });
    await first.emulator.close();
    const second = await startTestEmulator({ stateFile });
    try {
      const again = (await second.stripe.customers.retrieve(customer.id)) as Stripe.Customer;
      expect(again.email).toBe("persist@minutely.test");
      expect((await second.stripe.events.list()).data.map((e) => e.type)).toContain("customer.created");
    } finally {
      await second.emulator.close();
    }
  });
});
