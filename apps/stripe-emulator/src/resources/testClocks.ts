import type Stripe from "stripe";
import { processUntil } from "../billing/clock.ts";
import { boundary } from "../billing/periods.ts";
import { subscriptionInterval } from "../billing/subscriptions.ts";
import { type EmulatorCore, paginate } from "../core.ts";
import { invalidRequest } from "../errors.ts";
import { newId } from "../ids.ts";
import type { Router } from "../router.ts";
import type { TestClockRec } from "../state.ts";

export function buildTestClock(rec: TestClockRec): Stripe.TestHelpers.TestClock {
  return {
    id: rec.id,
    object: "test_helpers.test_clock",
    created: rec.created,
    deletes_after: rec.created + 30 * 86_400,
    frozen_time: rec.frozen_time,
    livemode: false,
    name: rec.name,
    status: rec.status,
    status_details:
      rec.status === "advancing" && rec.target_frozen_time !== null
        ? { advancing: { target_frozen_time: rec.target_frozen_time } }
        : {},
  };
}

/** Stripe's limit: two intervals of the shortest live subscription on the clock, from its frozen time. */
function advanceLimit(
  core: EmulatorCore,
  clock: TestClockRec,
): { until: number; subscription: string; every: string } | null {
  const customers = new Set(
    Object.values(core.state.customers)
      .filter((c) => c.test_clock === clock.id && !c.deleted)
      .map((c) => c.id),
  );
  let best: { until: number; subscription: string; every: string } | null = null;
  for (const sub of Object.values(core.state.subscriptions)) {
    if (!customers.has(sub.customer) || sub.status === "canceled" || sub.status === "incomplete_expired")
      continue;
    const { interval } = subscriptionInterval(core, sub);
    const until = boundary(clock.frozen_time, interval.interval, interval.interval_count, 2);
    if (best === null || until < best.until) {
      best = { until, subscription: sub.id, every: `${interval.interval_count} ${interval.interval}` };
    }
  }
  return best;
}

/**
 * Advances a test clock. Processing runs synchronously inside the request: the response mirrors
 * Stripe's (`status: "advancing"`), and by the time it is sent a retrieve already shows `ready`.
 */
export function advanceClock(
  core: EmulatorCore,
  clock: TestClockRec,
  target: number,
): Stripe.TestHelpers.TestClock {
  if (target <= clock.frozen_time) {
    throw invalidRequest(
      "The frozen_time must be after the test clock's current frozen_time.",
      "frozen_time",
    );
  }
  const limit = advanceLimit(core, clock);
  if (limit !== null && target > limit.until) {
    throw invalidRequest(
      `A test clock can advance at most two intervals of the shortest subscription on it at once: ${limit.subscription} renews every ${limit.every}, so frozen_time can be at most ${limit.until} now. Advance in steps.`,
      "frozen_time",
    );
  }
  clock.status = "advancing";
  clock.target_frozen_time = target;
  const response = buildTestClock(clock);
  core.emit("test_helpers.test_clock.advancing", response);
  processUntil(core, clock.id, target);
  clock.status = "ready";
  clock.target_frozen_time = null;
  clock.frozen_time = target;
  core.emit("test_helpers.test_clock.ready", buildTestClock(clock));
  return response;
}

export function registerTestClocks(router: Router): void {
  router.post("/v1/test_helpers/test_clocks", ({ core, p }) => {
    const rec: TestClockRec = {
      id: newId("clock"),
      seq: core.nextSeq(),
      created: core.realNow(),
      name: p.str("name") ?? null,
      frozen_time: p.reqInt("frozen_time"),
      status: "ready",
      target_frozen_time: null,
      deleted: false,
    };
    core.state.testClocks[rec.id] = rec;
    core.emit("test_helpers.test_clock.created", buildTestClock(rec));
    return buildTestClock(rec);
  });

  router.get("/v1/test_helpers/test_clocks", ({ core, p, url }) =>
    paginate(
      Object.values(core.state.testClocks).filter((c) => !c.deleted),
      p,
      url,
      buildTestClock,
    ),
  );

  router.get("/v1/test_helpers/test_clocks/:id", ({ core, path }) =>
    buildTestClock(core.testClock(path.id ?? "", "test_clock")),
  );

  router.post("/v1/test_helpers/test_clocks/:id/advance", ({ core, p, path }) => {
    const clock = core.testClock(path.id ?? "", "test_clock");
    return advanceClock(core, clock, p.reqInt("frozen_time"));
  });

  router.del("/v1/test_helpers/test_clocks/:id", ({ core, path }) => {
    const clock = core.testClock(path.id ?? "", "test_clock");
    clock.deleted = true;
    const customers = new Set(
      Object.values(core.state.customers)
        .filter((c) => c.test_clock === clock.id)
        .map((c) => c.id),
    );
    for (const id of customers) {
      const customer = core.state.customers[id];
      if (customer) customer.deleted = true;
    }
    for (const [id, sub] of Object.entries(core.state.subscriptions)) {
      if (customers.has(sub.customer)) delete core.state.subscriptions[id];
    }
    for (const [id, schedule] of Object.entries(core.state.schedules)) {
      if (customers.has(schedule.customer)) delete core.state.schedules[id];
    }
    core.emit("test_helpers.test_clock.deleted", buildTestClock(clock));
    return {
      id: clock.id,
      object: "test_helpers.test_clock",
      deleted: true,
    } satisfies Stripe.TestHelpers.DeletedTestClock;
  });
}
