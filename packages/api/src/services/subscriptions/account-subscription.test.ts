// Every service agrees on which subscription describes an account, also when it has several.
import { testDatabase } from "@minutely/db/vitest";
import { systemClock } from "@minutely/domain";
import { describe, expect, it } from "vitest";
import { accountEntitlements } from "../accounts/entitlements.ts";
import { createAccount, subscribe } from "../metering/metering.fixtures.ts";
import { loadMeteringSubscriptions } from "../metering/subscription.ts";
import { currentSubscription } from "./account-subscription.ts";
import { subscriptionOverview } from "./subscriptions.ts";

const { db } = await testDatabase();
const ports = { db, clock: systemClock };

async function views(accountId: string) {
  const [current, overview, entitlements, metering] = await Promise.all([
    currentSubscription(db, accountId),
    subscriptionOverview(ports, accountId),
    accountEntitlements(ports, accountId),
    loadMeteringSubscriptions(db, [accountId]),
  ]);
  return {
    current: current?.stripeSubscriptionId,
    overview: overview.stripeSubscriptionId,
    entitlementsPackage: entitlements.package?.name ?? null,
    metering: metering.get(accountId)?.stripeSubscriptionId,
  };
}

describe("the account's current subscription", () => {
  it("is the paid one, not a newer checkout left incomplete, in every service", async () => {
    const { accountId } = await createAccount(db, "Two subs");
    const paid = await subscribe(db, accountId, {
      plan: "Pro",
      status: "active",
      createdAt: new Date("2026-11-01T00:00:00Z"),
    });
    await subscribe(db, accountId, {
      plan: "Enterprise",
      status: "incomplete",
      createdAt: new Date("2026-11-20T00:00:00Z"),
    });
    expect(await views(accountId)).toEqual({
      current: paid.stripeSubscriptionId,
      overview: paid.stripeSubscriptionId,
      entitlementsPackage: "Pro",
      metering: paid.stripeSubscriptionId,
    });
  });

  it("is the one to fix when none grants access, and the newest ended one after that", async () => {
    const { accountId } = await createAccount(db, "Unpaid");
    const unpaid = await subscribe(db, accountId, {
      plan: "Starter",
      status: "unpaid",
      createdAt: new Date("2026-10-01T00:00:00Z"),
    });
    await subscribe(db, accountId, {
      plan: "Pro",
      status: "canceled",
      createdAt: new Date("2026-11-02T00:00:00Z"),
    });
    expect(await views(accountId)).toEqual({
      current: unpaid.stripeSubscriptionId,
      overview: unpaid.stripeSubscriptionId,
      entitlementsPackage: "Starter",
      metering: unpaid.stripeSubscriptionId,
    });
    await db.subscription.update({ where: { id: unpaid.id }, data: { status: "canceled" } });
    const newest = await db.subscription.findFirstOrThrow({ where: { accountId, plan: { name: "Pro" } } });
    expect((await views(accountId)).current).toBe(newest.stripeSubscriptionId);
    expect((await views(accountId)).metering).toBe(newest.stripeSubscriptionId);
  });
});
