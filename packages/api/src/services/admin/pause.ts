// The admin's pause and resume of a customer's subscription: the customer's own actions (subscriptions
// group, pause.ts), on the account the admin names, recorded in the audit log with the pause before and after.
import type { CollectionPause, PausePeriods } from "@minutely/domain";
import type { Ports, Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { writeAudit } from "../audit.ts";
import { collectionPauseOf } from "../metering/index.ts";
import {
  currentSubscription,
  pauseSubscription,
  resumePausedSubscription,
  type SubscriptionOverview,
} from "../subscriptions/index.ts";

async function requireAccount(ports: Ports, accountId: string) {
  const account = await ports.db.account.findUnique({ where: { id: accountId }, select: { id: true } });
  if (!account) throw new AppError("NOT_FOUND", "No such customer.", "accountId");
}

/** The account's pause as set now (null: none), read before a change for the audit's `before`. */
async function pauseNow(ports: Ports, accountId: string): Promise<CollectionPause | null> {
  const current = await currentSubscription(ports.db, accountId);
  return current ? collectionPauseOf(current) : null;
}

const samePause = (a: CollectionPause | null, b: CollectionPause | null) =>
  (a?.startsAt.getTime() ?? null) === (b?.startsAt.getTime() ?? null) &&
  (a?.resumesAt?.getTime() ?? null) === (b?.resumesAt?.getTime() ?? null) &&
  (a === null) === (b === null);

/** A retry (the same pause again, a resume with none set) changes nothing and is not logged again. */
export async function adminPauseSubscription(
  ports: Ports,
  actor: Viewer,
  input: { accountId: string; periods: PausePeriods | null },
): Promise<SubscriptionOverview> {
  await requireAccount(ports, input.accountId);
  const before = await pauseNow(ports, input.accountId);
  const after = await pauseSubscription(ports, input.accountId, input.periods);
  if (samePause(before, after.pause)) return after;
  await writeAudit(
    ports.db,
    actor,
    {
      action: "subscription.pause",
      entityType: "account",
      entityId: input.accountId,
      before: { pause: before },
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
  const before = await pauseNow(ports, input.accountId);
  const after = await resumePausedSubscription(ports, input.accountId);
  if (samePause(before, after.pause)) return after;
  await writeAudit(
    ports.db,
    actor,
    {
      action: "subscription.resume_pause",
      entityType: "account",
      entityId: input.accountId,
      before: { pause: before },
      after: { pause: after.pause },
    },
    ports.clock.now(),
  );
  return after;
}
