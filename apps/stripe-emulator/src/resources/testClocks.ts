import type Stripe from "stripe";
import { advanceClock } from "../billing/clock.ts";
import { paginate } from "../core.ts";
import type { Router } from "../http/router.ts";
import { newId } from "../ids.ts";
import { buildTestClock } from "../objects/testClocks.ts";
import type { TestClockRec } from "../state.ts";

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
