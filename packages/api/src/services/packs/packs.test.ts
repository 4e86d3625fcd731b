// Minute packs against the Stripe emulator and real PostgreSQL: admins define packs (a one-time Stripe price,
// audit entries, archive), customers buy one through Checkout in payment mode or with the saved card, and
// every payment grants its pack exactly once, webhooks delivered twice included; declines and 3-D Secure
// grant nothing and say so.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import type { Viewer } from "../../context.ts";
import { AppError } from "../../errors.ts";
import { testPorts } from "../../testing.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { processStripeEvent, receiveStripeWebhook } from "../subscriptions/stripe-webhooks.ts";
import { subscribe } from "../subscriptions/subscriptions.ts";
import { updateTaxDetails } from "../subscriptions/tax-details.ts";
import { packLedgerView } from "./grants.ts";
import {
  applyPackPaymentIntent,
  archiveMinutePack,
  buyPackWithCheckout,
  buyPackWithSavedCard,
  createMinutePack,
  listMinutePacks,
  listOfferedPacks,
  ZMinutePackInputSchema,
} from "./packs.ts";

const { db } = await testDatabase();
const clock = fixedClock(new Date(Date.now() + 24 * 3600_000));
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
const pack = {
  name: "1,000 minutes",
  minutes: 1000,
  priceCents: 2500,
  currency: "usd" as const,
  validityMonths: 12,
};

let counter = 0;
async function customer(card = "pm_card_visa", currency: "usd" | "eur" | "gbp" = "usd") {
  counter += 1;
  const account = await db.account.create({ data: { name: `Pack customer ${counter}` } });
  const email = `pack${counter}-${Date.now()}@example.com`;
  await db.user.create({
    data: { email, name: "Owner", memberships: { create: { accountId: account.id, role: "owner" } } },
  });
  await subscribe(
    ports,
    { accountId: account.id, email, name: "Owner" },
    {
      packageId: starter.id,
      paymentMethodId: "pm_card_visa",
      currency,
    },
  );
  const { stripeCustomerId } = await db.account.findUniqueOrThrow({ where: { id: account.id } });
  if (card !== "pm_card_visa" && stripeCustomerId) {
    await ports.billing.attachDefaultPaymentMethod(stripeCustomerId, card, `attach-${account.id}`);
  }
  return { accountId: account.id, customerId: stripeCustomerId ?? "" };
}

async function codeOf(work: Promise<unknown>) {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  return error instanceof AppError ? { code: error.code, field: error.field, message: error.message } : error;
}

/** Delivers Stripe's events of `type` about `objectId` as webhooks (twice each) and processes them. */
async function deliver(type: string, objectId: string) {
  const secret = "whsec_packs_test";
  let delivered = 0;
  for await (const event of ports.stripe.events.list({ limit: 100, type })) {
    if ((event.data.object as { id?: string }).id !== objectId) continue;
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
  return delivered;
}

describe("the minute pack catalog", () => {
  it("syncs a pack to Stripe as a one-time price, writes the audit log, and archives it", async () => {
    const { pack: created, syncError } = await createMinutePack(ports, admin, pack);
    expect(syncError).toBeNull();
    const row = await db.minutePack.findUniqueOrThrow({ where: { id: created.id } });
    const price = await ports.stripe.prices.retrieve(row.stripePriceId ?? "");
    expect(price).toMatchObject({ type: "one_time", unit_amount: 2500, currency: "usd", active: true });
    expect(price.recurring).toBeNull();
    expect((await listMinutePacks(ports, { includeArchived: false })).map((p) => p.id)).toContain(created.id);
    await archiveMinutePack(ports, admin, created.id);
    expect((await ports.stripe.prices.retrieve(row.stripePriceId ?? "")).active).toBe(false);
    expect((await listMinutePacks(ports, { includeArchived: false })).map((p) => p.id)).not.toContain(
      created.id,
    );
    const audit = await db.auditLog.findMany({ where: { entityType: "minute_pack", entityId: created.id } });
    expect(audit.map((a) => a.action).sort()).toEqual(["minute_pack.archive", "minute_pack.create"]);
  });

  it("refuses bad input naming the field, never coercing it", () => {
    const issue = (input: unknown) => {
      const parsed = ZMinutePackInputSchema.safeParse(input);
      return parsed.success ? null : parsed.error.issues.map((i) => i.path.join("."));
    };
    expect(issue(pack)).toBeNull();
    expect(issue({ ...pack, priceCents: "2500" })).toEqual(["priceCents"]);
    expect(issue({ ...pack, minutes: 0 })).toEqual(["minutes"]);
    expect(issue({ ...pack, minutes: 1.5 })).toEqual(["minutes"]);
    expect(issue({ ...pack, validityMonths: 37 })).toEqual(["validityMonths"]);
    expect(issue({ ...pack, priceCents: 10_000_001 })).toEqual(["priceCents"]);
    expect(issue({ ...pack, currency: "jpy" })).toEqual(["currency"]);
    expect(issue({ ...pack, extra: 1 })).not.toBeNull();
  });
});

describe("buying a pack", () => {
  it("with the saved card grants it once, whatever the replays and the webhook", async () => {
    const { pack: offered } = await createMinutePack(ports, admin, pack);
    const who = await customer();
    const ledger = await buyPackWithSavedCard(ports, who.accountId, { packId: offered.id, requestKey: "k1" });
    expect(ledger.totals).toEqual({ bought: 1000, used: 0, expired: 0, remaining: 1000 });
    expect(ledger.grants[0]?.expiresAt.getTime()).toBeGreaterThan(clock.now().getTime());
    // The same request again is the same payment (Stripe idempotency key): no second pack.
    await buyPackWithSavedCard(ports, who.accountId, { packId: offered.id, requestKey: "k1" });
    const intents = await ports.stripe.paymentIntents.list({ customer: who.customerId, limit: 100 });
    const packIntents = intents.data.filter((pi) => pi.metadata?.minutely_pack_id === offered.id);
    expect(packIntents).toHaveLength(1);
    expect(await deliver("payment_intent.succeeded", packIntents[0]?.id ?? "")).toBe(1);
    expect(await applyPackPaymentIntent(ports, packIntents[0]?.id ?? "")).toBe(false);
    expect((await packLedgerView(ports, who.accountId)).totals.bought).toBe(1000);
  });

  it("with the saved card adds Stripe Tax once the billing address is known (FR 20 %; none without one)", async () => {
    const { pack: offered } = await createMinutePack(ports, admin, pack);
    const who = await customer();
    const amounts = async () =>
      (await ports.stripe.paymentIntents.list({ customer: who.customerId, limit: 100 })).data
        .filter((pi) => pi.metadata?.minutely_pack_id === offered.id)
        .map((pi) => [pi.amount, pi.metadata?.minutely_tax_cents])
        .sort();
    // No address: Stripe Tax cannot compute a tax (the gap docs/billing.md names), the price is charged.
    await buyPackWithSavedCard(ports, who.accountId, { packId: offered.id, requestKey: "tax-none-1" });
    expect(await amounts()).toEqual([[2500, "0"]]);
    const row = await db.account.findUniqueOrThrow({ where: { id: who.accountId } });
    await updateTaxDetails(
      ports,
      { accountId: who.accountId, email: "owner@example.com", name: row.name },
      {
        address: { country: "FR", line1: null, line2: null, city: "Paris", state: null, postalCode: "75001" },
        taxId: null,
        requestKey: "pack-tax-fr-1",
      },
    );
    await buyPackWithSavedCard(ports, who.accountId, { packId: offered.id, requestKey: "tax-fr-0001" });
    expect(await amounts()).toEqual([
      [2500, "0"],
      [3000, "500"],
    ]);
    expect((await packLedgerView(ports, who.accountId)).totals.bought).toBe(2000);
  });

  it("through Checkout in payment mode grants it once from the webhook delivered twice", async () => {
    const { pack: offered } = await createMinutePack(ports, admin, pack);
    const who = await customer();
    const checkout = await buyPackWithCheckout(ports, who.accountId, {
      packId: offered.id,
      successUrl: "http://localhost/usage?pack=bought",
      cancelUrl: "http://localhost/usage",
      requestKey: "c1",
    });
    expect((await packLedgerView(ports, who.accountId)).totals.bought).toBe(0);
    const paid = await fetch(`${checkout.url}/pay`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      // The customer has no billing address yet: Stripe Tax asks for it on the page (Germany: 19 % VAT).
      body: "card=visa&address_country=DE",
      redirect: "manual",
    });
    expect(paid.status).toBeLessThan(400);
    const session = await ports.stripe.checkout.sessions.retrieve(checkout.sessionId);
    expect(session.automatic_tax.enabled).toBe(true);
    expect(session.total_details?.amount_tax).toBe(Math.round(pack.priceCents * 0.19));
    expect(session.amount_total).toBe(pack.priceCents + (session.total_details?.amount_tax ?? 0));
    expect(await deliver("checkout.session.completed", checkout.sessionId)).toBe(1);
    expect((await packLedgerView(ports, who.accountId)).totals).toEqual({
      bought: 1000,
      used: 0,
      expired: 0,
      remaining: 1000,
    });
  });

  it("a declined card or a bank asking for 3-D Secure grants nothing and says so", async () => {
    const { pack: offered } = await createMinutePack(ports, admin, pack);
    const declined = await customer("pm_card_chargeCustomerFail");
    expect(
      await codeOf(buyPackWithSavedCard(ports, declined.accountId, { packId: offered.id, requestKey: "d" })),
    ).toMatchObject({
      code: "PAYMENT_REQUIRED",
      message: expect.stringMatching(/declined/),
    });
    const secure = await customer("pm_card_authenticationRequired");
    expect(
      await codeOf(buyPackWithSavedCard(ports, secure.accountId, { packId: offered.id, requestKey: "s" })),
    ).toMatchObject({
      code: "PAYMENT_REQUIRED",
      message: expect.stringMatching(/confirm/),
    });
    expect((await packLedgerView(ports, declined.accountId)).totals.bought).toBe(0);
    expect((await packLedgerView(ports, secure.accountId)).totals.bought).toBe(0);
  });

  it("refuses a pack not offered or in another currency, naming packId", async () => {
    const { pack: euro } = await createMinutePack(ports, admin, { ...pack, currency: "eur" });
    const who = await customer();
    expect(
      await codeOf(buyPackWithSavedCard(ports, who.accountId, { packId: euro.id, requestKey: "e" })),
    ).toMatchObject({
      code: "BAD_REQUEST",
      field: "packId",
    });
    const { pack: gone } = await createMinutePack(ports, admin, pack);
    await archiveMinutePack(ports, admin, gone.id);
    expect(
      await codeOf(buyPackWithSavedCard(ports, who.accountId, { packId: gone.id, requestKey: "g" })),
    ).toMatchObject({
      code: "BAD_REQUEST",
      field: "packId",
    });
  });

  it("a EUR subscriber is offered and sold EUR packs only, granted in EUR; a USD pack is refused naming packId", async () => {
    const { pack: euros } = await createMinutePack(ports, admin, {
      ...pack,
      name: "Euro minutes",
      priceCents: 2300,
      currency: "eur",
    });
    const { pack: pounds } = await createMinutePack(ports, admin, {
      ...pack,
      name: "Pound minutes",
      priceCents: 2000,
      currency: "gbp",
    });
    const { pack: dollars } = await createMinutePack(ports, admin, { ...pack, name: "Dollar minutes" });
    const who = await customer("pm_card_visa", "eur");
    const offered = await listOfferedPacks(ports, who.accountId);
    expect(offered.length).toBeGreaterThan(0);
    expect(new Set(offered.map((p) => p.currency))).toEqual(new Set(["eur"]));
    expect(offered.map((p) => p.id)).toContain(euros.id);
    expect(offered.map((p) => p.id)).not.toContain(pounds.id);
    for (const other of [dollars, pounds]) {
      expect(
        await codeOf(
          buyPackWithSavedCard(ports, who.accountId, { packId: other.id, requestKey: `x-${other.id}` }),
        ),
      ).toMatchObject({ code: "BAD_REQUEST", field: "packId" });
    }
    await buyPackWithSavedCard(ports, who.accountId, { packId: euros.id, requestKey: "euro-pack" });
    const grant = await db.packGrant.findFirstOrThrow({ where: { accountId: who.accountId } });
    expect({ price: grant.priceCents, currency: grant.currency.trim() }).toEqual({
      price: 2300,
      currency: "eur",
    });
  });
});
