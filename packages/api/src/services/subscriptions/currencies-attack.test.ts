// Selling in EUR and GBP attacked as a careless user and a hostile client: two tabs buying in two
// currencies, a card update for a EUR customer. Real PostgreSQL, the official Stripe SDK against the
// emulator.
import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { stripeEmulatorUrl } from "@minutely/testing";
import { describe, expect, it } from "vitest";
import { testPorts } from "../../testing.ts";
import { syncCatalogToStripe } from "../catalog/catalog-admin.ts";
import { startPaymentMethodUpdate, subscribe } from "./subscriptions.ts";

const { db } = await testDatabase();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl(), clock });
const { stripe } = ports;
await syncCatalogToStripe(ports);
const pro = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });

let counter = 0;
async function newAccount() {
  counter += 1;
  const account = await db.account.create({ data: { name: `Currency attacker ${counter}` } });
  const email = `cur-attacker${counter}@example.com`;
  await db.user.create({
    data: {
      email,
      name: `Currency attacker ${counter}`,
      memberships: { create: { accountId: account.id, role: "owner" } },
    },
  });
  return { accountId: account.id, email, name: account.name };
}

async function checkoutOf(
  account: Awaited<ReturnType<typeof newAccount>>,
  packageId: string,
  currency: "usd" | "eur" | "gbp",
) {
  const page = await subscribe(ports, account, { packageId, currency });
  if (page.kind !== "checkout") throw new Error("expected a Checkout page");
  return page;
}

describe("two tabs buying in two currencies", () => {
  it("a Checkout page asked for again in EUR after one in GBP is an open page, and the GBP one is expired", async () => {
    const account = await newAccount();
    const eur = await checkoutOf(account, pro.id, "eur");
    const gbp = await checkoutOf(account, pro.id, "gbp");
    expect((await stripe.checkout.sessions.retrieve(eur.sessionId)).status).toBe("expired");
    // The first tab clicks again in EUR, with no request key (as the REST subscribe sends): the same Stripe
    // key as its first page, which Stripe replays, expired. The page it is sent to can be paid.
    const again = await checkoutOf(account, pro.id, "eur");
    const opened = await stripe.checkout.sessions.retrieve(again.sessionId);
    expect({ status: opened.status, currency: opened.currency }).toEqual({ status: "open", currency: "eur" });
    expect((await stripe.checkout.sessions.retrieve(gbp.sessionId)).status).toBe("expired");
    // A retry of that request (a lost answer) finds the same page, not a third one.
    expect((await checkoutOf(account, pro.id, "eur")).sessionId).toBe(again.sessionId);
    const open = await stripe.checkout.sessions.list({ customer: opened.customer as string, status: "open" });
    expect(open.data.map((s) => s.id)).toEqual([again.sessionId]);
  });
});

describe("a card update for a EUR customer", () => {
  it("opens the setup page in the account's currency, not USD", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: pro.id, paymentMethodId: "pm_card_visa", currency: "eur" });
    const setup = await startPaymentMethodUpdate(ports, account, "update-1");
    expect((await stripe.checkout.sessions.retrieve(setup.sessionId)).currency).toBe("eur");
  });
});
