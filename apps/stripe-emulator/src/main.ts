/**
 * CLI: `pnpm --filter @minutely/stripe-emulator dev`.
 * Prints one JSON line `{"event":"listening","url":...,"apiVersion":...}` first, then human logs.
 */

import { invoiceNoticesFromEnv, paymentRetriesFromEnv, webhookRetryFromEnv } from "./config.ts";
import { chaosOptionsSchema } from "./http/webhooks.ts";
import { type PreregisteredWebhook, type StripeEmulatorOptions, startStripeEmulator } from "./server.ts";
import { API_VERSION, EMULATOR_DESCRIPTION } from "./version.ts";

function chaosFromEnv(value: string | undefined) {
  if (!value) return undefined;
  const parts = new Set(
    value
      .split(",")
      .map((part) => part.trim().toLowerCase())
      .filter(Boolean),
  );
  const seed = process.env.STRIPE_EMULATOR_CHAOS_SEED;
  return chaosOptionsSchema.parse({
    duplicate: parts.has("duplicate") || undefined,
    reorder: parts.has("reorder") || undefined,
    delay: parts.has("delay") || undefined,
    seed: seed ? Number(seed) : undefined,
  });
}

async function main(): Promise<void> {
  const env = process.env;
  const webhooks: PreregisteredWebhook[] = [];
  if (env.STRIPE_EMULATOR_WEBHOOK_URL) {
    const secret = env.STRIPE_EMULATOR_WEBHOOK_SECRET ?? env.STRIPE_WEBHOOK_SECRET;
    if (!secret)
      throw new Error("STRIPE_EMULATOR_WEBHOOK_URL needs STRIPE_EMULATOR_WEBHOOK_SECRET (whsec_...)");
    webhooks.push({ url: env.STRIPE_EMULATOR_WEBHOOK_URL, secret });
  }
  const options: StripeEmulatorOptions = {
    port:
      env.STRIPE_EMULATOR_PORT !== undefined && env.STRIPE_EMULATOR_PORT !== ""
        ? Number(env.STRIPE_EMULATOR_PORT)
        : 12111,
    host: env.STRIPE_EMULATOR_HOST || "127.0.0.1",
    webhooks,
    log: (line) => process.stdout.write(`[stripe-emulator] ${line}\n`),
  };
  const chaos = chaosFromEnv(env.STRIPE_EMULATOR_CHAOS);
  if (chaos) options.chaos = chaos;
  if (env.STRIPE_EMULATOR_STATE_FILE) options.stateFile = env.STRIPE_EMULATOR_STATE_FILE;
  if (env.STRIPE_EMULATOR_PUBLIC_URL) options.publicUrl = env.STRIPE_EMULATOR_PUBLIC_URL;
  const webhookRetry = webhookRetryFromEnv(env);
  if (webhookRetry) options.webhookRetry = webhookRetry;
  const paymentRetries = paymentRetriesFromEnv(env);
  if (paymentRetries) options.paymentRetries = paymentRetries;
  const invoiceNotices = invoiceNoticesFromEnv(env);
  if (invoiceNotices) options.invoiceNotices = invoiceNotices;

  const emulator = await startStripeEmulator(options);
  process.stdout.write(
    `${JSON.stringify({ event: "listening", url: emulator.url, apiVersion: API_VERSION })}\n`,
  );
  const say = (line: string) => process.stdout.write(`[stripe-emulator] ${line}\n`);
  say("=".repeat(78));
  say(EMULATOR_DESCRIPTION);
  say(`Listening on ${emulator.url} (Stripe API version ${API_VERSION}). Any sk_test_... key works.`);
  say(
    `SDK: new Stripe(key, { host: "${emulator.host}", port: ${emulator.port}, protocol: "http" }) or STRIPE_API_BASE=${emulator.url}`,
  );
  for (const hook of webhooks) say(`Webhooks → ${hook.url} (signed with the configured secret)`);
  if (chaos) say(`Webhook chaos mode: ${JSON.stringify(chaos)}`);
  if (options.stateFile) say(`State file: ${options.stateFile}`);
  say("=".repeat(78));

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    say(`${signal} received, shutting down`);
    emulator
      .close()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        process.stderr.write(`${String(error)}\n`);
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `[stripe-emulator] failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
