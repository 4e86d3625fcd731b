// Live usage through a PostgreSQL restart: a customer's open stream (server-sent events, as the browser
// reads it) is told to poll while the API's LISTEN connection is down, goes live again with the current
// state once the API has reconnected by itself (same API process), and then hears new reports again.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type EmbeddedPostgresServer, freePort, startEmbeddedPostgres } from "@minutely/db/embedded";
import { startTestDatabaseServer } from "@minutely/db/testing";
import { startStack } from "@minutely/testing";
import { describe, expect, it, onTestFailed, onTestFinished } from "vitest";

const METERING_TOKEN = "live-reconnect-metering-token";
const DAY_MS = 24 * 60 * 60 * 1000;

interface SseMessage {
  id?: string;
  event?: string;
  data?: unknown;
}

/** Reads a tRPC subscription as EventSource does: `id:`, `event:` and `data:` (superjson) per message. */
async function openStream(url: string, cookie: string) {
  const abort = new AbortController();
  const response = await fetch(url, {
    headers: { cookie, accept: "text/event-stream" },
    signal: abort.signal,
  });
  expect(response.status).toBe(200);
  const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
  if (!reader) throw new Error("no body");
  let buffer = "";
  const queue: SseMessage[] = [];
  return {
    /** The next message that carries data (pings and the connected event skipped). */
    async next(timeoutMs = 60_000): Promise<SseMessage> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const message = queue.shift();
        if (message) {
          if (message.event === undefined && message.data !== undefined) return message;
          continue;
        }
        if (Date.now() > deadline) throw new Error("no message in time");
        const chunk = await reader.read();
        if (chunk.done) throw new Error("the stream ended");
        buffer += chunk.value;
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const parsed: SseMessage = {};
          for (const line of block.split("\n")) {
            const colon = line.indexOf(":");
            const field = line.slice(0, colon);
            const value = line.slice(colon + 1).trimStart();
            if (field === "id") parsed.id = value;
            else if (field === "event") parsed.event = value;
            else if (field === "data") parsed.data = (JSON.parse(value) as { json: unknown }).json;
          }
          queue.push(parsed);
          end = buffer.indexOf("\n\n");
        }
      }
    },
    close() {
      abort.abort();
    },
  };
}

describe("live usage through a PostgreSQL restart", () => {
  it("tells the stream to poll while PostgreSQL is down, then goes live again by itself", async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), "minutely-live-restart-")), "data");
    const port = await freePort();
    let pgServer: EmbeddedPostgresServer | undefined = await startEmbeddedPostgres({ dataDir, port });
    onTestFinished(async () => {
      await pgServer?.stop();
      rmSync(join(dataDir, ".."), { recursive: true, force: true });
    });
    const { server, teardown } = await startTestDatabaseServer({ DATABASE_URL: pgServer.adminUrl });
    const stack = await startStack(server, { env: { METERING_API_TOKEN: METERING_TOKEN } });
    onTestFinished(async () => {
      await stack.stop();
      await teardown();
    });
    onTestFailed(() => {
      process.stderr.write(`[live-reconnect] API output:\n${stack.logs().slice(-6000)}\n`);
    });

    const db = stack.database.db;
    const user = await stack.createUser({ email: "live@example.com", password: "correct horse battery" });
    const plan = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
    await db.subscription.create({
      data: {
        accountId: user.accountId,
        planId: plan.id,
        stripePriceId: "price_live_reconnect",
        stripeSubscriptionId: "sub_live_reconnect",
        status: "active",
        currentPeriodStart: new Date(Date.now() - DAY_MS),
        currentPeriodEnd: new Date(Date.now() + 29 * DAY_MS),
      },
    });
    let call = 0;
    /** Reports one call of `minutes`, retrying while the API answers 503 (PostgreSQL coming back). */
    const report = async (minutes: number) => {
      call += 1;
      const body = JSON.stringify({
        events: [
          {
            call_id: `live-restart-${call}`,
            account_id: user.accountId,
            direction: "outbound",
            started_at: new Date().toISOString(),
            duration_seconds: minutes * 60,
          },
        ],
      });
      for (let attempt = 0; ; attempt++) {
        const response = await fetch(`${stack.baseUrl}/api/v1/usage/calls`, {
          method: "POST",
          headers: { authorization: `Bearer ${METERING_TOKEN}`, "content-type": "application/json" },
          body,
        });
        if (response.status === 200) return;
        if (attempt > 200) throw new Error(`report kept failing: ${response.status}`);
        await sleep(100);
      }
    };
    const minutesOf = (message: SseMessage) =>
      (message.data as { usage?: { minutesUsed: number } }).usage?.minutesUsed;

    const stream = await openStream(`${stack.baseUrl}/trpc/live.usage`, user.cookie);
    onTestFinished(() => stream.close());
    expect(minutesOf(await stream.next())).toBe(0);
    await report(3);
    expect(minutesOf(await stream.next())).toBe(3);

    // PostgreSQL goes away: the same stream is told to poll (nothing can be notified now).
    await pgServer.stop();
    pgServer = undefined;
    expect((await stream.next()).data).toEqual({ status: "poll" });

    pgServer = await startEmbeddedPostgres({ dataDir, port });
    // The API's LISTEN connection comes back by itself: the stream goes live with the current state.
    const back = await stream.next();
    expect(back.data).toMatchObject({ status: "live", usage: { minutesUsed: 3 } });
    // And hears reports again, with no restart of the API.
    await report(4);
    expect(minutesOf(await stream.next())).toBe(7);
    expect(stack.exitCode()).toBeNull();
    expect(stack.logs()).toContain("live usage: LISTEN connection lost");
  });
});
