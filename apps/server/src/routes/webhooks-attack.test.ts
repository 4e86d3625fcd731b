// The Stripe webhook endpoint attacked as a hostile client and a flaky network would: bursts with heavy
// duplication, one id with two payloads, signed bodies PostgreSQL cannot store mixed into a burst, large
// bodies, odd content types, and PostgreSQL taken down in the middle of a burst.
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { processStripeEvent } from "@minutely/api";
import { testPorts } from "@minutely/api/testing";
import { createPrismaClient } from "@minutely/db";
import { startDatabaseProxy } from "@minutely/db/testing";
import { testDatabase } from "@minutely/db/vitest";
import { systemClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { buildTestServer } from "../testing.ts";
import { startWorker, type WorkerRunner } from "../worker.ts";

const SECRET = "whsec_webhook_attack_secret";
const { db, url } = await testDatabase();
const app = await buildTestServer(db, { STRIPE_WEBHOOK_SECRET: SECRET });
const ports = { ...testPorts(db, { stripeApiBase: stripeEmulatorUrl() }), clock: systemClock };
const stripe = ports.stripe;
// A second API replica on the same database: its own group commit.
const replica = await buildTestServer(db, { STRIPE_WEBHOOK_SECRET: SECRET });
const proxy = await startDatabaseProxy(url);
// A short circuit cooldown, so the endpoint recovers within the test once the database is back.
const proxiedDb = createPrismaClient(proxy.url, {
  poolSize: 4,
  connectTimeoutMs: 1000,
  circuit: { cooldown: { baseMs: 100, maxMs: 200 } },
});
const flaky = await buildTestServer(proxiedDb, { STRIPE_WEBHOOK_SECRET: SECRET });
// A database that stops answering (a hung server): the statements in flight time out quickly.
const hangingProxy = await startDatabaseProxy(url);
const hangingDb = createPrismaClient(hangingProxy.url, {
  poolSize: 4,
  connectTimeoutMs: 1000,
  statementTimeoutMs: 1000,
  queryTimeoutMs: 1500,
  circuit: { cooldown: { baseMs: 100, maxMs: 200 } },
});
const hanging = await buildTestServer(hangingDb, { STRIPE_WEBHOOK_SECRET: SECRET });
afterAll(async () => {
  await app.close();
  await replica.close();
  await flaky.close();
  await hanging.close();
  await proxiedDb.$disconnect();
  await hangingDb.$disconnect();
  await proxy.close();
  await hangingProxy.close();
});

function event(id: string, object: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    id,
    object: "event",
    type: "customer.updated",
    created: 1_790_000_000,
    data: { object },
    ...extra,
  });
}

function post(payload: string, options: { server?: typeof app; contentType?: string | null } = {}) {
  const contentType = options.contentType === undefined ? "application/json" : options.contentType;
  return (options.server ?? app).inject({
    method: "POST",
    url: "/api/webhooks/stripe",
    headers: {
      ...(contentType === null ? {} : { "content-type": contentType }),
      "stripe-signature": stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }),
    },
    payload,
  });
}

async function jobs(prefix: string) {
  return await db.$queryRaw<{ key: string; queue_name: string | null }[]>`
    SELECT key, queue_name FROM graphile_worker.jobs
    WHERE task_identifier = 'process-stripe-event' AND key LIKE ${`stripe-event:${prefix}%`} ORDER BY key`;
}

describe("signed bodies PostgreSQL cannot store", () => {
  it("refuses an event type longer than stripe_event.type holds with a 400 naming it", async () => {
    const payload = event("evt_long_type", {}, { type: `customer.${"x".repeat(150)}` });
    const response = await post(payload);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().fields).toEqual({ type: "is too long (at most 120 characters)" });
    expect(await db.stripeEvent.count({ where: { id: "evt_long_type" } })).toBe(0);
  });

  it("refuses an event id or type that is blank or holds spaces with a 400 naming it", async () => {
    for (const [id, type, field] of [
      [" ", "invoice.paid", "id"],
      ["evt_space id", "invoice.paid", "id"],
      ["evt_blank_type", " ", "type"],
      ["evt_tab_type", "invoice.paid\t", "type"],
    ] as const) {
      const response = await post(event(id, {}, { type }));
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().fields).toEqual({ [field]: "must not contain spaces" });
      expect(await db.stripeEvent.count({ where: { id } })).toBe(0);
    }
  });

  it("refuses a customer id longer than a job queue's name may be with a 400 naming it", async () => {
    const payload = event("evt_long_customer", {
      id: "in_1",
      object: "invoice",
      customer: `cus_${"x".repeat(150)}`,
    });
    const response = await post(payload);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.body).toMatch(/customer/);
    expect(await db.stripeEvent.count({ where: { id: "evt_long_customer" } })).toBe(0);
    expect(await jobs("evt_long_customer")).toEqual([]);
    // The longest a queue name may be (128 characters) is taken.
    const longest = `cus_${"x".repeat(128 - "stripe-customer:cus_".length)}`;
    const atLimit = await post(
      event("evt_longest_customer", { id: "in_2", object: "invoice", customer: longest }),
    );
    expect(atLimit.statusCode, atLimit.body).toBe(200);
    expect(await jobs("evt_longest_customer")).toEqual([
      { key: "stripe-event:evt_longest_customer", queue_name: `stripe-customer:${longest}` },
    ]);
  });

  // Each side of every limit of PostgreSQL's numeric (what jsonb stores a number as), in the real database.
  const refused = [
    "1e131072",
    "12e131071",
    "-1e131072",
    `1${"0".repeat(131_072)}`,
    "1e-16384",
    "0.1e-16383",
    "1.5e-16383",
    "0e-20000",
    "100e-16385",
    `0.${"0".repeat(16_383)}1`,
    `1.${"0".repeat(16_384)}`,
    "1e1073741823",
    "0e1073741823",
    "1e-1073741823",
    `1e${"9".repeat(30)}`,
  ];
  const stored = [
    "1e131071",
    "-1e131071",
    `1${"0".repeat(131_071)}`,
    "1e-16383",
    `0.${"0".repeat(16_382)}1`,
    `1.${"0".repeat(16_383)}`,
    "0e200000",
    "0.0000e999999",
    "1.5E+10",
    `1e${"0".repeat(30)}5`,
    "-0",
    "0.5e-16382",
  ];
  it.each(refused.map((n, i) => [n.slice(0, 20), n, i] as const))(
    "refuses a number PostgreSQL cannot store, %s, with a 400",
    async (_name, number, i) => {
      const id = `evt_bad_number_${i}`;
      const response = await post(
        event(id, { id: "cus_n", object: "customer", balance: "N" }).replace('"N"', number),
      );
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().message).toMatch(/^The event holds a number .*PostgreSQL/);
      expect(await db.stripeEvent.count({ where: { id } })).toBe(0);
    },
  );
  it.each(stored.map((n, i) => [n.slice(0, 20), n, i] as const))(
    "records a number PostgreSQL stores, %s",
    async (_name, number, i) => {
      const id = `evt_good_number_${i}`;
      const response = await post(
        event(id, { id: "cus_n", object: "customer", balance: "N" }).replace('"N"', number),
      );
      expect(response.statusCode, response.body).toBe(200);
      expect(await db.stripeEvent.count({ where: { id } })).toBe(1);
    },
  );
});

describe("bytes that are not UTF-8", () => {
  it("refuses a body that is not UTF-8 text with a 400, though the SDK verifies its signature (it decodes leniently)", async () => {
    // The SDK checks the signature over the body decoded with U+FFFD for each invalid byte, so any invalid
    // byte passes for a signed U+FFFD: these bytes are not what was signed.
    const signedText = event("evt_not_utf8", { id: "cus_utf8", object: "customer", name: "a\ufffdb" });
    const bytes = Buffer.from(signedText.replace("\ufffd", "\u0001"));
    bytes[bytes.indexOf(0x01)] = 0xff;
    const response = await app.inject({
      method: "POST",
      url: "/api/webhooks/stripe",
      headers: {
        "content-type": "application/json",
        "stripe-signature": stripe.webhooks.generateTestHeaderString({ payload: signedText, secret: SECRET }),
      },
      payload: bytes,
    });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().message).toMatch(/UTF-8/);
    expect(await db.stripeEvent.count({ where: { id: "evt_not_utf8" } })).toBe(0);
    // The text that was signed is recorded.
    expect((await post(signedText)).statusCode).toBe(200);
  });
});

describe("bursts", () => {
  it("answers hundreds of concurrent deliveries with heavy duplication: one recorded per id, one job each, in its customer's queue", async () => {
    const ids = Array.from({ length: 120 }, (_, i) => `evt_storm_${String(i).padStart(3, "0")}`);
    const payloadOf = (id: string, i: number) =>
      i % 5 === 0
        ? event(id, { id: `pi_${i}`, object: "payment_intent", customer: null })
        : event(id, { id: `cus_storm_${i % 17}`, object: "customer" });
    const deliveries: string[] = [];
    ids.forEach((id, i) => {
      for (let copy = 0; copy < 1 + (i % 4); copy++) deliveries.push(payloadOf(id, i));
    });
    // A deterministic shuffle.
    let seed = 11;
    const shuffled = deliveries
      .map((d) => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return [seed, d] as const;
      })
      .sort((a, b) => a[0] - b[0])
      .map(([, d]) => d);
    const answers = await Promise.all(shuffled.map((payload) => post(payload)));
    const firsts = new Map<string, number>();
    answers.forEach((answer, i) => {
      expect(answer.statusCode, answer.body).toBe(200);
      const id = JSON.parse(shuffled[i] ?? "").id as string;
      if (!answer.json().duplicate) firsts.set(id, (firsts.get(id) ?? 0) + 1);
    });
    expect([...firsts.values()].every((n) => n === 1)).toBe(true);
    expect(firsts.size).toBe(ids.length);
    expect(await db.stripeEvent.count({ where: { id: { startsWith: "evt_storm_" } } })).toBe(ids.length);
    const queued = await jobs("evt_storm_");
    expect(queued.map((j) => j.key)).toEqual(ids.map((id) => `stripe-event:${id}`));
    queued.forEach((job, i) => {
      expect(job.queue_name).toBe(i % 5 === 0 ? null : `stripe-customer:cus_storm_${i % 17}`);
    });
  });

  it("records the payload of the delivery answered as recorded when one id comes with two payloads", async () => {
    const variants = Array.from({ length: 40 }, (_, i) =>
      event("evt_two_faced", { id: "cus_two", object: "customer", name: `variant ${i}` }),
    );
    const answers = await Promise.all(variants.map((payload) => post(payload)));
    const recorded = answers.flatMap((a, i) => (a.json().duplicate === false ? [i] : []));
    expect(recorded).toHaveLength(1);
    const row = await db.stripeEvent.findUniqueOrThrow({ where: { id: "evt_two_faced" } });
    expect((row.payload as { data: { object: { name: string } } }).data.object.name).toBe(
      `variant ${recorded[0]}`,
    );
  });

  it("fails only the poisoned deliveries of a burst, with a 400, and records the rest", async () => {
    const good = Array.from({ length: 60 }, (_, i) =>
      event(`evt_mixed_${i}`, { id: `cus_mixed_${i % 3}`, object: "customer" }),
    );
    const poison = [
      event("evt_mixed_p1", {}, { type: `x.${"y".repeat(200)}` }),
      event("evt_mixed_p2", { id: "cus_mixed_0", object: "customer" }).replace(
        '"object":"customer"',
        '"object":"customer","balance":1e300000',
      ),
      event("evt_mixed_p3", { id: "cu", object: "invoice", customer: "c".repeat(120) }),
    ];
    const burst = [
      ...good.slice(0, 20),
      poison[0],
      ...good.slice(20, 40),
      poison[1],
      ...good.slice(40),
      poison[2],
    ];
    const answers = await Promise.all(burst.map((payload) => post(payload as string)));
    answers.forEach((answer, i) => {
      const poisoned = poison.includes(burst[i] as string);
      expect(answer.statusCode, `${i}: ${answer.body}`).toBe(poisoned ? 400 : 200);
    });
    expect(await db.stripeEvent.count({ where: { id: { startsWith: "evt_mixed_" } } })).toBe(60);
    expect(await jobs("evt_mixed_")).toHaveLength(60);
  });

  it("records a burst of 1 MiB events", async () => {
    const big = Array.from({ length: 8 }, (_, i) => {
      const base = event(`evt_big_${i}`, { id: `cus_big_${i}`, object: "customer", note: "" });
      return base.replace('"note":""', `"note":"${"n".repeat(1024 * 1024 - base.length)}"`);
    });
    expect(Buffer.byteLength(big[0] ?? "")).toBe(1024 * 1024);
    const answers = await Promise.all([...big, ...big].map((payload) => post(payload)));
    expect(answers.map((a) => a.statusCode)).toEqual(answers.map(() => 200));
    expect(answers.filter((a) => a.json().duplicate === false)).toHaveLength(8);
    expect(await db.stripeEvent.count({ where: { id: { startsWith: "evt_big_" } } })).toBe(8);
    const tooBig = `${big[0]} `;
    expect((await post(tooBig)).statusCode).toBe(413);
  });
});

describe("content types", () => {
  it.each([
    ["text/plain", "text/plain"],
    ["form encoding", "application/x-www-form-urlencoded"],
    ["a charset", "application/json; charset=utf-8"],
    ["no content type", null],
  ])("takes a signed event sent with %s", async (name, contentType) => {
    const id = `evt_ct_${name.replace(/\W/g, "_")}`;
    const response = await post(event(id), { contentType });
    expect(response.statusCode, response.body).toBe(200);
    expect(await db.stripeEvent.count({ where: { id } })).toBe(1);
  });
});

describe("PostgreSQL down in the middle of a burst", () => {
  it("answers 200 only for recorded events, 503 with Retry-After for the others, never 500; redelivery records the rest once", async () => {
    const payloads = Array.from({ length: 200 }, (_, i) =>
      event(`evt_outage_${String(i).padStart(3, "0")}`, { id: `cus_outage_${i % 7}`, object: "customer" }),
    );
    // Warm: the pool has connections when the burst starts.
    expect((await post(event("evt_warm_outage"), { server: flaky })).statusCode).toBe(200);
    // The database goes away once the first 40 deliveries are answered, while the others are in flight.
    let answeredSoFar = 0;
    const inFlight = payloads.map((payload, i) =>
      new Promise((r) => setTimeout(r, i * 2)).then(async () => {
        const answer = await post(payload, { server: flaky });
        answeredSoFar += 1;
        if (answeredSoFar === 40) proxy.down();
        return answer;
      }),
    );
    const answers = await Promise.all(inFlight);
    proxy.up();
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    // The outage came in the middle: some deliveries were answered before it, some refused during it.
    console.log("outage", statuses.filter((s) => s === 200).length, statuses.filter((s) => s === 503).length);
    expect(statuses).toContain(200);
    expect(statuses).toContain(503);
    for (const a of answers) if (a.statusCode === 503) expect(a.headers["retry-after"]).toBeDefined();
    const answered = payloads.filter((_, i) => answers[i]?.statusCode === 200).map((p) => JSON.parse(p).id);
    const recorded = new Set(
      (
        await db.stripeEvent.findMany({ where: { id: { startsWith: "evt_outage_" } }, select: { id: true } })
      ).map((r) => r.id),
    );
    for (const id of answered) expect(recorded.has(id), id).toBe(true);
    const queuedBefore = new Set((await jobs("evt_outage_")).map((j) => j.key));
    for (const id of recorded) expect(queuedBefore.has(`stripe-event:${id}`), id).toBe(true);
    // Stripe redelivers everything; once the database is back, each missing event is recorded once.
    let again: Awaited<ReturnType<typeof post>>[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      await new Promise((r) => setTimeout(r, 200));
      again = await Promise.all(payloads.map((payload) => post(payload, { server: flaky })));
      if (again.every((a) => a.statusCode === 200)) break;
    }
    expect(again.map((a) => a.statusCode)).toEqual(payloads.map(() => 200));
    again.forEach((a, i) => {
      const id = JSON.parse(payloads[i] ?? "").id as string;
      expect(a.json().duplicate, id).toBe(recorded.has(id));
    });
    expect(await db.stripeEvent.count({ where: { id: { startsWith: "evt_outage_" } } })).toBe(200);
    expect(await jobs("evt_outage_")).toHaveLength(200);
  });
});

describe("PostgreSQL hung in the middle of a burst", () => {
  it("answers 200 only for recorded events and 503 for the others, never 500", async () => {
    const payloads = Array.from({ length: 120 }, (_, i) =>
      event(`evt_hung_${String(i).padStart(3, "0")}`, { id: `cus_hung_${i % 5}`, object: "customer" }),
    );
    expect((await post(event("evt_warm_hung"), { server: hanging })).statusCode).toBe(200);
    let answeredSoFar = 0;
    const answers = await Promise.all(
      payloads.map((payload, i) =>
        new Promise((r) => setTimeout(r, i * 2)).then(async () => {
          const answer = await post(payload, { server: hanging });
          answeredSoFar += 1;
          if (answeredSoFar === 30) hangingProxy.hang();
          return answer;
        }),
      ),
    );
    const statuses = answers.map((a) => a.statusCode);
    console.log("hung", statuses.filter((s) => s === 200).length, statuses.filter((s) => s === 503).length);
    expect(answers.filter((a) => a.statusCode !== 200 && a.statusCode !== 503).map((a) => a.body)).toEqual(
      [],
    );
    expect(statuses).toContain(503);
    const recorded = new Set(
      (
        await db.stripeEvent.findMany({ where: { id: { startsWith: "evt_hung_" } }, select: { id: true } })
      ).map((r) => r.id),
    );
    payloads.forEach((payload, i) => {
      if (answers[i]?.statusCode === 200) expect(recorded.has(JSON.parse(payload).id)).toBe(true);
    });
    expect((await jobs("evt_hung_")).length).toBe(recorded.size);
  });
});

describe("two API replicas", () => {
  it("answer the same burst recorded once per event between them", async () => {
    const payloads = Array.from({ length: 50 }, (_, i) =>
      event(`evt_replicas_${i}`, { id: `cus_replicas_${i % 6}`, object: "customer" }),
    );
    const answers = await Promise.all(
      payloads.flatMap((payload) => [post(payload), post(payload, { server: replica }), post(payload)]),
    );
    expect(answers.map((a) => a.statusCode)).toEqual(answers.map(() => 200));
    for (let i = 0; i < payloads.length; i++) {
      const recorded = answers.slice(i * 3, i * 3 + 3).filter((a) => a.json().duplicate === false);
      expect(recorded, `event ${i}`).toHaveLength(1);
    }
    expect(await jobs("evt_replicas_")).toHaveLength(50);
  });
});

describe("clients that go away (over a real socket)", () => {
  function rawRequest(port: number, payload: string, bodyBytes: number): net.Socket {
    const signature = stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET });
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => {});
    socket.write(
      `POST /api/webhooks/stripe HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
        `Stripe-Signature: ${signature}\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n`,
    );
    socket.write(Buffer.from(payload).subarray(0, bodyBytes));
    return socket;
  }

  it("records nothing for an upload cut off; a client gone before the answer gets its redelivery answered truly, one job", async () => {
    const server = await buildTestServer(db, { STRIPE_WEBHOOK_SECRET: SECRET });
    try {
      await server.listen({ port: 0, host: "127.0.0.1" });
      const port = (server.server.address() as net.AddressInfo).port;
      const cut = event("evt_cut_off", { id: "cus_gone", object: "customer", note: "x".repeat(200_000) });
      rawRequest(port, cut, 100_000).destroy();
      const gone = event("evt_gone", { id: "cus_gone", object: "customer" });
      const socket = rawRequest(port, gone, Buffer.byteLength(gone));
      socket.destroy();
      await sleep(500);
      expect(await db.stripeEvent.count({ where: { id: "evt_cut_off" } })).toBe(0);
      // Recorded or not (the request may be aborted before its handler runs), its redelivery says which,
      // and the event is queued once either way.
      const recordedBefore = await db.stripeEvent.count({ where: { id: "evt_gone" } });
      const again = await fetch(`http://127.0.0.1:${port}/api/webhooks/stripe`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "stripe-signature": stripe.webhooks.generateTestHeaderString({ payload: gone, secret: SECRET }),
        },
        body: gone,
      });
      expect(again.status).toBe(200);
      expect(await again.json()).toEqual({ received: true, duplicate: recordedBefore === 1 });
      expect(await jobs("evt_gone")).toHaveLength(1);
      // The cut-off upload, sent whole, is recorded once.
      const whole = await fetch(`http://127.0.0.1:${port}/api/webhooks/stripe`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "stripe-signature": stripe.webhooks.generateTestHeaderString({ payload: cut, secret: SECRET }),
        },
        body: cut,
      });
      expect(await whole.json()).toEqual({ received: true, duplicate: false });
    } finally {
      await server.close();
    }
  });
});

describe("the worker after a burst", () => {
  it("processes every event once, a customer's one at a time in the order queued", async () => {
    const payloads = Array.from({ length: 60 }, (_, i) =>
      event(
        `evt_work_${String(i).padStart(2, "0")}`,
        i % 6 === 5
          ? { id: `pi_work_${i}`, object: "payment_intent", customer: null }
          : { id: `cus_work_${i % 4}`, object: "customer" },
      ),
    );
    const answers = await Promise.all([...payloads, ...payloads].map((payload) => post(payload)));
    expect(answers.map((a) => a.statusCode)).toEqual(answers.map(() => 200));
    const queued = await db.$queryRaw<{ id: bigint; key: string; queue_name: string | null }[]>`
      SELECT id, key, queue_name FROM graphile_worker.jobs
      WHERE task_identifier = 'process-stripe-event' AND key LIKE 'stripe-event:evt_work_%' ORDER BY id`;
    expect(queued).toHaveLength(60);
    const runs: { eventId: string; queue: string | null; start: number; end: number }[] = [];
    const queueOf = new Map(queued.map((j) => [j.key.slice("stripe-event:".length), j.queue_name]));
    let runner: WorkerRunner | undefined;
    try {
      runner = await startWorker({
        connectionString: url,
        concurrency: 4,
        ports,
        log: pino({ level: "silent" }) as never,
        pollInterval: 100,
        tasks: {
          "process-stripe-event": async (payload) => {
            const { eventId } = payload as { eventId: string };
            const start = performance.now();
            await sleep(10);
            await processStripeEvent(ports, eventId);
            runs.push({ eventId, queue: queueOf.get(eventId) ?? null, start, end: performance.now() });
          },
        },
      });
      const deadline = Date.now() + 30_000;
      while (
        (await db.stripeEvent.count({ where: { id: { startsWith: "evt_work_" }, status: "processed" } })) < 60
      ) {
        if (Date.now() > deadline) throw new Error("the worker did not process the burst");
        await sleep(50);
      }
    } finally {
      await runner?.stop();
    }
    const mine = runs.filter((r) => r.eventId.startsWith("evt_work_"));
    expect(mine.map((r) => r.eventId).sort()).toEqual(payloads.map((p) => JSON.parse(p).id));
    for (const queue of new Set(mine.map((r) => r.queue))) {
      if (queue === null) continue;
      const inQueue = mine.filter((r) => r.queue === queue);
      // In the order queued, never two at once.
      expect(inQueue.map((r) => r.eventId)).toEqual(
        queued.filter((j) => j.queue_name === queue).map((j) => j.key.slice("stripe-event:".length)),
      );
      for (let i = 1; i < inQueue.length; i++) {
        expect((inQueue[i]?.start ?? 0) >= (inQueue[i - 1]?.end ?? 0), queue).toBe(true);
      }
    }
    const events = await db.stripeEvent.findMany({ where: { id: { startsWith: "evt_work_" } } });
    expect(events.every((e) => e.status === "processed" && e.attempts === 1)).toBe(true);
  });
});
