// Minute packs in the browser: the customer buys a pack with the saved card and on the emulator's hosted
// Checkout page (payment mode; granted by the webhook), sees the balance with its expiry date and the
// ledger, sets auto top-up (a bad threshold is refused naming the field); the real API, worker, Stripe
// emulator and built SPA.
import { createStripeClient } from "@minutely/api";
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { enterCheckoutAddress, signIn, subscribeWithCard } from "./helpers.ts";

const stack = await testStack({ spas: { web: true } });
const browser = await testBrowser();
const stripe = createStripeClient({ secretKey: "sk_test_packs_e2e", apiBase: stack.stripeApiBase });
let page: Page;
let accountId: string;

async function definePack(name: string, minutes: number, priceCents: number) {
  const product = await stripe.products.create({ name });
  const price = await stripe.prices.create({ product: product.id, unit_amount: priceCents, currency: "usd" });
  return await stack.database.db.minutePack.create({
    data: {
      name,
      minutes,
      priceCents,
      currency: "usd",
      validityMonths: 12,
      stripeProductId: product.id,
      stripePriceId: price.id,
    },
  });
}

beforeAll(async () => {
  const user = await stack.createUser({ email: "packs@example.com", password: "correct horse battery" });
  accountId = user.accountId;
  page = await browser.newPage();
  await signIn(stack, page, "packs@example.com");
  const cookies = await page.context().cookies();
  await subscribeWithCard(stack, cookies.map((c) => `${c.name}=${c.value}`).join("; "), "Starter");
  await definePack("1,000 minutes", 1000, 2500);
  await definePack("250 minutes", 250, 800);
});

describe("minute packs on the Usage page", () => {
  it("buys a pack with the saved card and on the checkout page, and shows the balance with its expiry", async () => {
    await page.goto(`${stack.baseUrl}/usage`);
    const card = page.getByTestId("minute-packs");
    await card.waitFor();
    expect(await page.getByTestId("pack-balance").textContent()).toMatch(/^0\s*pack minutes left/);
    const offer = (name: string) => page.getByTestId("pack-offer").filter({ hasText: name });
    await offer("1,000 minutes:").getByRole("button", { name: "Buy with saved card" }).click();
    await page.getByTestId("pack-bought").waitFor();
    await expect.poll(() => page.getByTestId("pack-balance").textContent()).toMatch(/^1,000\s*pack minutes/);
    expect(await page.getByTestId("pack-next-expiry").textContent()).toMatch(/1,000 of them expire on/);
    await screenshot(page, "web-minute-packs-bought");

    // The 250-minute pack through the hosted Checkout page (payment mode): granted by the webhook.
    await offer("250 minutes:").getByRole("button", { name: "Pay on checkout page" }).click();
    await page.waitForURL(/\/checkout\/cs_/);
    await page.locator("#card-visa").check();
    await enterCheckoutAddress(page);
    await page.locator("#submit").click();
    await page.waitForURL(/\/usage\?pack=bought/, { timeout: 15_000 }).catch(async () => {
      await page.locator("#continue").click();
      await page.waitForURL(/\/usage\?pack=bought/);
    });
    await expect
      .poll(() => page.getByTestId("pack-balance").textContent(), { timeout: 20_000 })
      .toMatch(/^1,250\s*pack minutes/);
    expect(await page.getByTestId("pack-ledger").textContent()).toMatch(
      /Bought 1,250 · used 0 · expired 0 · left 1,250/,
    );
    expect(await page.getByTestId("pack-next-expiry").textContent()).toMatch(/1,250 of them expire on/);
    await screenshot(page, "web-minute-packs-checkout");
    const grants = await stack.database.db.packGrant.findMany({ where: { accountId } });
    expect(grants.map((g) => g.minutes).sort()).toEqual([1000, 250]);
  });

  it("sets auto top-up, refusing a bad threshold with the field named", async () => {
    const section = page.getByTestId("auto-top-up");
    await section.getByLabel("When fewer than (minutes)").fill("lots");
    await section.getByRole("button", { name: "Turn on auto top-up" }).click();
    await section.getByText("Enter whole minutes from 1 to 1,000,000.").waitFor();
    await screenshot(page, "web-minute-packs-auto-top-up-error");
    await section.getByLabel("Pack").selectOption({ label: "250 minutes" });
    await section.getByLabel("When fewer than (minutes)").fill("100");
    await section.getByLabel("At most a month").fill("3");
    await section.getByRole("button", { name: "Turn on auto top-up" }).click();
    await section.getByText(/On: when fewer than 100 pack minutes are left/).waitFor();
    await screenshot(page, "web-minute-packs-auto-top-up");
    const account = await stack.database.db.account.findUniqueOrThrow({ where: { id: accountId } });
    expect([account.autoTopUpThresholdMinutes, account.autoTopUpMaxPerMonth]).toEqual([100, 3]);
  });
});
