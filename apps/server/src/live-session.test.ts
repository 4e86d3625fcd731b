// A live usage stream belongs to a signed-in session: once the session ends (sign-out), the stream sends the
// account's usage no more.
import { createAuth, ingestUsageEvents, LiveHub } from "@minutely/api";
import { testPorts } from "@minutely/api/testing";
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl, userWithAccount } from "@minutely/testing";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";
import { buildServer } from "./server.ts";
import { cookiesFrom, TEST_ORIGIN } from "./testing.ts";

const { db, url } = await testDatabase();
const config = loadConfig({
  NODE_ENV: "test",
  DATABASE_URL: url,
  LOG_LEVEL: "silent",
  PUBLIC_URL: TEST_ORIGIN,
  STRIPE_API_BASE: stripeEmulatorUrl(),
});
const auth = createAuth({
  db,
  secret: config.sessionSecret,
  baseUrl: config.publicUrl,
  trustedOrigins: config.trustedOrigins,
  secureCookies: config.secureCookies,
});
const ports = testPorts(db, {
  clock: fixedClock(new Date()),
  stripeApiBase: stripeEmulatorUrl(),
  appUrl: config.appUrl,
  publicUrl: config.publicUrl,
});
const live = await LiveHub.listen({ connectionString: url });
const app = await buildServer({ config, auth, ...ports, live });
const base = await app.listen({ port: 0, host: "127.0.0.1" });
afterAll(() => app.close());

const DAY_MS = 86_400_000;

/** The `data:` lines of a server-sent event stream, as the browser's EventSource reads them. */
async function openStream(cookie: string) {
  const abort = new AbortController();
  const response = await fetch(`${base}/trpc/live.usage`, {
    headers: { cookie, accept: "text/event-stream" },
    signal: abort.signal,
  });
  expect(response.status).toBe(200);
  const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
  if (!reader) throw new Error("no body");
  let buffer = "";
  return {
    /** The minutes of the next live message, "ended" when the stream ends, "none" after `ms`. */
    async nextMinutes(ms: number): Promise<number | "ended" | "none" | string> {
      const deadline = Date.now() + ms;
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.split("\n").some((l) => l.startsWith("event:"))) {
            if (block.includes("event: serialized-error")) return "ended";
            continue;
          }
          const data = block.split("\n").find((l) => l.startsWith("data:"));
          if (!data) continue;
          const json = JSON.parse(data.slice(5)).json as { status: string; usage?: { minutesUsed: number } };
          return json.status === "live" ? (json.usage?.minutesUsed ?? -1) : json.status;
        }
        const left = deadline - Date.now();
        if (left <= 0) return "none";
        const chunk = await Promise.race([
          reader.read(),
          new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), left)),
        ]);
        if (chunk === "timeout") return "none";
        if (chunk.done) return "ended";
        buffer += chunk.value;
      }
    },
    close: () => abort.abort(),
  };
}

describe("a live stream after sign-out", () => {
  it("sends the account's minutes no more once its session has ended", async () => {
    const email = "live-signout@example.com";
    const signUp = await app.inject({
      method: "POST",
      url: "/api/auth/sign-up/email",
      headers: { origin: TEST_ORIGIN },
      payload: { name: email, email, password: "long-enough-1" },
    });
    expect(signUp.statusCode, signUp.body).toBe(200);
    const cookie = cookiesFrom(signUp.headers["set-cookie"]);
    const user = await userWithAccount(db, { email });
    const accountId = user.accountId ?? "";
    const plan = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
    await db.subscription.create({
      data: {
        accountId,
        stripeSubscriptionId: `sub_live_${accountId}`,
        planId: plan.id,
        stripePriceId: "price_x",
        status: "active",
        currentPeriodStart: new Date(Date.now() - 5 * DAY_MS),
        currentPeriodEnd: new Date(Date.now() + 25 * DAY_MS),
      },
    });
    const stream = await openStream(cookie);
    try {
      expect(await stream.nextMinutes(5_000)).toBe(0);
      const call = (id: string) => ({
        callId: id,
        accountId,
        agentId: null,
        direction: "outbound" as const,
        startedAt: new Date(Date.now() - 60 * 60_000),
        durationSeconds: 600,
      });
      await ingestUsageEvents(ports, [call("before-sign-out")]);
      expect(await stream.nextMinutes(5_000)).toBe(10);

      const signOut = await app.inject({
        method: "POST",
        url: "/api/auth/sign-out",
        headers: { cookie, origin: TEST_ORIGIN, "content-type": "application/json" },
        payload: "{}",
      });
      expect(signOut.statusCode, signOut.body).toBe(200);
      // The session is gone: a new request with the same cookie is refused.
      const again = await app.inject({ method: "GET", url: "/api/billing/spend-cap", headers: { cookie } });
      expect(again.statusCode).toBe(401);

      await ingestUsageEvents(ports, [call("after-sign-out")]);
      expect(await stream.nextMinutes(3_000)).not.toBe(20);
    } finally {
      stream.close();
    }
  });
});
