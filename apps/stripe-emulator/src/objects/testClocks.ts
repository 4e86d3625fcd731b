import type Stripe from "stripe";
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
