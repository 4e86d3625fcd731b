import {
  cancelSchedule,
  createScheduleFromParams,
  createScheduleFromSubscription,
  releaseSchedule,
  updateSchedule,
} from "../billing/schedules.ts";
import { paginate } from "../core.ts";
import type { Router } from "../http/router.ts";
import { buildSchedule } from "../objects/schedules.ts";

export function registerSchedules(router: Router): void {
  router.post("/v1/subscription_schedules", ({ core, p }) => {
    const from = p.str("from_subscription");
    const schedule = from
      ? createScheduleFromSubscription(core, core.subscription(from, "from_subscription"), p)
      : createScheduleFromParams(core, p);
    return buildSchedule(core, schedule);
  });

  router.get("/v1/subscription_schedules", ({ core, p, url }) => {
    const customer = p.str("customer");
    const items = Object.values(core.state.schedules).filter(
      (s) => customer === undefined || s.customer === customer,
    );
    return paginate(items, p, url, (s) => buildSchedule(core, s));
  });

  router.get("/v1/subscription_schedules/:id", ({ core, path }) =>
    buildSchedule(core, core.schedule(path.id ?? "", "schedule")),
  );

  router.post("/v1/subscription_schedules/:id", ({ core, p, path }) => {
    const schedule = core.schedule(path.id ?? "", "schedule");
    updateSchedule(core, schedule, p);
    return buildSchedule(core, schedule);
  });

  router.post("/v1/subscription_schedules/:id/release", ({ core, path }) => {
    const schedule = core.schedule(path.id ?? "", "schedule");
    releaseSchedule(core, schedule);
    return buildSchedule(core, schedule);
  });

  router.post("/v1/subscription_schedules/:id/cancel", ({ core, p, path }) => {
    const schedule = core.schedule(path.id ?? "", "schedule");
    cancelSchedule(core, schedule, p);
    return buildSchedule(core, schedule);
  });
}
