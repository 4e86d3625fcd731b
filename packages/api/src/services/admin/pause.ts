// The admin's pause and resume of a customer's subscription: the customer's own actions (subscriptions
// group, pause.ts), on the account the admin names, recorded in the audit log with the pause before and after.
import type { PausePeriods } from "@minutely/domain";
import type { Ports, Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { writeAudit } from "../audit.ts";
import {
  pauseSubscription,
  resumePausedSubscription,
  type SubscriptionOverview,
} from "../subscriptions/index.ts";

async function requireAccount(ports: Ports, accountId: string) {
  const account = await ports.db.account.findUnique({ where: { id: accountId }, select: { id: true } });
  if (!account) throw new AppError("NOT_FOUND", "No such customer.", "accountId");
}

export async function adminPauseSubscription(
  ports: Ports,
  actor: Viewer,
  input: { accountId: string; periods: PausePeriods | null },
): Promise<SubscriptionOverview> {
  await requireAccount(ports, input.accountId);
  const after = await pauseSubscription(ports, input.accountId, input.periods);
  await writeAudit(
    ports.db,
    actor,
    {
      action: "subscription.pause",
      entityType: "account",
      entityId: input.accountId,
      after: { periods: input.periods, pause: after.pause },
    },
    ports.clock.now(),
  );
  return after;
}

export async function adminResumePausedSubscription(
  ports: Ports,
  actor: Viewer,
  input: { accountId: string },
): Promise<SubscriptionOverview> {
  await requireAccount(ports, input.accountId);
  const after = await resumePausedSubscription(ports, input.accountId);
  await writeAudit(
    ports.db,
    actor,
    {
      action: "subscription.resume_pause",
      entityType: "account",
      entityId: input.accountId,
      after: { pause: after.pause },
    },
    ports.clock.now(),
  );
  return after;
}
