// Selling in EUR and GBP attacked as a careless user and a hostile client: a card update for a EUR customer. Real PostgreSQL, the official Stripe SDK against the emulator.
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

describe("a card update for a EUR customer", () => {
  it("opens the setup page in the account's currency, not USD", async () => {
    const account = await newAccount();
    await subscribe(ports, account, { packageId: pro.id, paymentMethodId: "pm_card_visa", currency: "eur" });
    const setup = await startPaymentMethodUpdate(ports, account, "update-1");
    expect((await stripe.checkout.sessions.retrieve(setup.sessionId)).currency).toBe("eur");
  });
});
