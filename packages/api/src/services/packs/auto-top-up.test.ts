// Auto top-up against the Stripe emulator and real PostgreSQL: a draw below the threshold buys one pack with
// the saved card (the job through the real queue), concurrent runs buy one, at most N a month; a decline or
// 3-D Secure is recorded, emailed, stops auto top-up and is never retried until the settings are saved.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { testPorts } from "../../testing.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { runQueuedJobs } from "../metering/metering.fixtures.ts";
import { ingestUsageEvents } from "../metering/usage-ingest.ts";
import { processStripeEvent, receiveStripeWebhook } from "../subscriptions/stripe-webhooks.ts";
import { subscribe } from "../subscriptions/subscriptions.ts";
import { autoTopUpView, runPackTopUp, setAutoTopUp, ZAutoTopUpInputSchema } from "./auto-top-up.ts";
import { grantPack, packLedgerView } from "./grants.ts";
import { createMinutePack } from "./packs.ts";

const { db, url } = await testDatabase();
const clock = fixedClock(new Date(Date.now() + 3600_000));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
const admin: Viewer = {
  userId: "00000000-0000-4000-8000-000000000001",
  email: "ops@example.com",
  name: "Ops",
  role: "admin",
  accountId: null,
};
await syncCatalogToStripe(ports);
const starter = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Starter" } });
const { pack: offered } = await createMinutePack(ports, admin, {
  name: "500 minutes",
  minutes: 500,
  priceCents: 1500,
  currency: "usd",
  validityMonths: 12,
});

let counter = 0;
async function customer(card = "pm_card_visa") {
  counter += 1;
  const account = await db.account.create({ data: { name: `Top-up customer ${counter}` } });
  const email = `topup${counter}-${Date.now()}@example.com`;
  const user = await db.user.create({
    data: { email, name: "Owner", memberships: { create: { accountId: account.id, role: "owner" } } },
  });
  await subscribe(
    ports,
    { accountId: account.id, email, name: "Owner" },
    { packageId: starter.id, paymentMethodId: "pm_card_visa" },
  );
  const { stripeCustomerId } = await db.account.findUniqueOrThrow({ where: { id: account.id } });
  if (card !== "pm_card_visa") {
    await ports.billing.attachDefaultPaymentMethod(stripeCustomerId ?? "", card, `attach-${account.id}`);
  }
  await grantPack(db, {
    accountId: account.id,
    packId: offered.id,
    sourceKey: `test:${account.id}`,
    minutes: 500,
    priceCents: 1500,
    currency: "usd",
    validityMonths: 12,
    grantedAt: clock.now(),
  });
  const viewer: Viewer = { userId: user.id, email, name: "Owner", role: "user", accountId: account.id };
  return { accountId: account.id, email, viewer };
}

let calls = 0;
/** Starter includes 1,000 minutes: `minutes` of calls in the current period. */
async function use(accountId: string, minutes: number) {
  const events = [];
  for (let left = minutes; left > 0; left -= 600) {
    calls += 1;
    events.push({
      callId: `topup-call-${calls}-${Date.now()}`,
      accountId,
      agentId: null,
      direction: "outbound" as const,
      startedAt: clock.now(),
      durationSeconds: Math.min(left, 600) * 60,
    });
    // The call has ended by the time it is reported.
    clock.advance((Math.min(left, 600) + 1) * 60_000);
  }
  const result = await ingestUsageEvents(ports, events);
  expect(result.results.filter((r) => r.status !== "accepted")).toEqual([]);
}

const settings = { packId: offered.id, thresholdMinutes: 200, maxPerMonth: 2 };

describe("auto top-up", () => {
  it("buys one pack with the saved card when the balance falls below the threshold, at most N a month", async () => {
    const who = await customer();
    await setAutoTopUp(ports, who.viewer, who.accountId, settings);
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    expect((await packLedgerView(ports, who.accountId)).totals.bought).toBe(500); // 500 >= 200: not due
    await use(who.accountId, 1000 + 400); // 100 left in the pack
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    expect((await packLedgerView(ports, who.accountId)).totals).toEqual({
      bought: 1000,
      used: 400,
      expired: 0,
      remaining: 600,
    });
    await use(who.accountId, 500); // 100 left again: the second (and last) of the month
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    await use(who.accountId, 500); // 100 left: the monthly maximum is reached
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    const view = await autoTopUpView(ports, who.accountId);
    expect(view.thisMonth.map((t) => t.status)).toEqual(["succeeded", "succeeded"]);
    expect((await packLedgerView(ports, who.accountId)).totals).toMatchObject({
      bought: 1500,
      remaining: 100,
    });
  });

  it("buys one pack when runs race for the same crossing", async () => {
    const who = await customer();
    await db.account.update({
      where: { id: who.accountId },
      data: { autoTopUpPackId: offered.id, autoTopUpThresholdMinutes: 600, autoTopUpMaxPerMonth: 5 },
    });
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => runPackTopUp(ports, who.accountId)));
    expect(outcomes.filter((o) => o === "succeeded")).toHaveLength(1);
    expect((await packLedgerView(ports, who.accountId)).totals.bought).toBe(1000);
  });

  it.each([
    ["pm_card_chargeCustomerFail", "declined", /declined/],
    ["pm_card_authenticationRequired", "requires_action", /confirmation/],
  ])("with %s: records %s, emails the owner, stops and never retries", async (card, status, subject) => {
    const who = await customer(card);
    await setAutoTopUp(ports, who.viewer, who.accountId, { ...settings, thresholdMinutes: 600 });
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    expect(await runPackTopUp(ports, who.accountId)).toBe("not_due");
    const view = await autoTopUpView(ports, who.accountId);
    expect(view.thisMonth.map((t) => t.status)).toEqual([status]);
    expect(view.stopped?.message).toBeTruthy();
    const mail = await db.mailMessage.findMany({ where: { to: who.email } });
    expect(mail.map((m) => m.subject)).toEqual([expect.stringMatching(subject)]);
    expect((await packLedgerView(ports, who.accountId)).totals.bought).toBe(500);
    // Saving the settings again lifts the stop: one more attempt (declined again), no loop.
    await setAutoTopUp(ports, who.viewer, who.accountId, { ...settings, thresholdMinutes: 600 });
    expect(await runQueuedJobs(url, ports)).toEqual([]);
    expect((await autoTopUpView(ports, who.accountId)).thisMonth).toHaveLength(2);
  });

  it("a payment_intent.payment_failed webhook of a top-up left pending records it once and stops", async () => {
    const who = await customer("pm_card_chargeCustomerFail");
    await setAutoTopUp(ports, who.viewer, who.accountId, { ...settings, thresholdMinutes: 10 });
    // A claim whose answer was lost (a crash after Stripe was asked): its PaymentIntent failed at Stripe.
    const claim = await db.packTopUp.create({
      data: {
        accountId: who.accountId,
        packId: offered.id,
        month: clock.now().toISOString().slice(0, 7),
        seq: 1,
        createdAt: clock.now(),
      },
    });
    const { stripeCustomerId } = await db.account.findUniqueOrThrow({ where: { id: who.accountId } });
    const customerRow = await ports.stripe.customers.retrieve(stripeCustomerId ?? "");
    const card = "deleted" in customerRow ? null : customerRow.invoice_settings?.default_payment_method;
    const intentId = await ports.stripe.paymentIntents
      .create({
        customer: stripeCustomerId ?? "",
        amount: 1500,
        currency: "usd",
        payment_method: typeof card === "string" ? card : (card?.id ?? ""),
        off_session: true,
        confirm: true,
        metadata: {
          minutely_pack_id: offered.id,
          minutely_account_id: who.accountId,
          minutely_top_up_id: claim.id,
        },
      })
      .then(
        (pi) => pi.id,
        (error: { payment_intent?: { id: string } }) => error.payment_intent?.id ?? "",
      );
    expect(intentId).toMatch(/^pi_/);
    const secret = "whsec_top_up_test";
    let delivered = 0;
    for await (const event of ports.stripe.events.list({
      limit: 100,
      type: "payment_intent.payment_failed",
    })) {
      if ((event.data.object as { id?: string }).id !== intentId) continue;
      const payload = JSON.stringify(event);
      for (let i = 0; i < 2; i++) {
        const signature = ports.stripe.webhooks.generateTestHeaderString({ payload, secret });
        const received = await receiveStripeWebhook(ports, {
          rawBody: Buffer.from(payload),
          signature,
          secret,
        });
        await processStripeEvent(ports, received.id);
      }
      delivered += 1;
    }
    expect(delivered).toBe(1);
    const view = await autoTopUpView(ports, who.accountId);
    expect(view.thisMonth.map((t) => t.status)).toEqual(["declined"]);
    expect(view.stopped).not.toBeNull();
    expect(await db.mailMessage.count({ where: { to: who.email } })).toBe(1);
    expect(await runPackTopUp(ports, who.accountId)).toBe("not_due");
  });

  it("refuses bad settings naming the field", async () => {
    const issue = (input: unknown) => {
      const parsed = ZAutoTopUpInputSchema.safeParse(input);
      return parsed.success ? null : parsed.error.issues.map((i) => i.path.join("."));
    };
    expect(issue(settings)).toBeNull();
    expect(issue(null)).toBeNull();
    expect(issue({ ...settings, thresholdMinutes: "200" })).toEqual(["thresholdMinutes"]);
    expect(issue({ ...settings, thresholdMinutes: 0 })).toEqual(["thresholdMinutes"]);
    expect(issue({ ...settings, maxPerMonth: 11 })).toEqual(["maxPerMonth"]);
    expect(issue({ ...settings, packId: "nope" })).toEqual(["packId"]);
    const who = await customer();
    const { pack: euro } = await createMinutePack(ports, admin, {
      name: "Euro",
      minutes: 100,
      priceCents: 100,
      currency: "eur",
      validityMonths: 1,
    });
    const error = await setAutoTopUp(ports, who.viewer, who.accountId, {
      ...settings,
      packId: euro.id,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).field).toBe("packId");
  });
});
