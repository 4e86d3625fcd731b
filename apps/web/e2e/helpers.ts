// Shared steps of the customer app's browser tests: sign up and pay on the emulator's hosted Checkout as
// a customer does, sign in, subscribe through the seed's REST contract with a card, and report calls
// through the metering API as the calling platform does.
import type { Stack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { expect } from "vitest";

export const PASSWORD = "correct horse battery";
/** The metering service token the test stack's API runs with (METERING_API_TOKEN's development value). */
export const METERING_TOKEN = "dev-metering-token";

export async function signIn(stack: Stack, page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto(`${stack.baseUrl}/sign-in`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  try {
    await page.waitForURL((url) => !url.pathname.startsWith("/sign-in"));
  } catch (error) {
    // Say what the customer saw and what the API printed, so a failure here explains itself.
    const shown = await page
      .locator("main")
      .textContent({ timeout: 1000 })
      .catch(() => "(no page)");
    throw new Error(
      `signing in ${email} stayed on ${page.url()}; the page shows: ${shown}\nthe API's last output:\n${stack.logs().slice(-4000)}`,
      { cause: error },
    );
  }
}

/**
 * On the emulator's hosted Checkout page, enters the billing address Stripe Tax asks for when the customer has
 * none (by default Oregon, where no tax is collected; pass another to be taxed).
 */
export async function enterCheckoutAddress(
  page: Page,
  address: { country: string; state?: string; postalCode?: string } = {
    country: "US",
    state: "OR",
    postalCode: "97201",
  },
): Promise<void> {
  const country = page.locator("#address-country");
  if ((await country.count()) === 0) return;
  await country.fill(address.country);
  await page.locator("#address-state").fill(address.state ?? "");
  await page.locator("#address-postal-code").fill(address.postalCode ?? "");
}

/** Signs up in the app, chooses the package and pays on the emulator's hosted Checkout page with a test card. */
export async function signUpAndPay(
  stack: Stack,
  page: Page,
  user: { name: string; email: string },
  packageName: string,
): Promise<void> {
  await page.goto(`${stack.baseUrl}/sign-up`);
  await page.getByLabel("Name").fill(user.name);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Choose your package" }).waitFor();
  await page.getByRole("button", { name: `Choose ${packageName}` }).click();
  await page.waitForURL(/\/checkout\/cs_/);
  await page.locator("#card-visa").check();
  await enterCheckoutAddress(page);
  await page.locator("#submit").click();
  await page.waitForURL(/\/billing\/return\?session_id=cs_/);
  await page.getByRole("heading", { name: `You're subscribed to ${packageName}` }).waitFor();
}

/** Subscribes through the seed's REST contract with a card, as the customer (their session cookie). */
export async function subscribeWithCard(stack: Stack, cookie: string, packageName: string): Promise<void> {
  const plan = await stack.database.db.subscriptionPlan.findUniqueOrThrow({ where: { name: packageName } });
  const response = await fetch(`${stack.baseUrl}/api/subscriptions/user/actions/`, {
    method: "POST",
    headers: { cookie, origin: stack.baseUrl, "content-type": "application/json" },
    body: JSON.stringify({ action: "subscribe", package_id: plan.id, payment_method_id: "pm_card_visa" }),
  });
  const body = await response.json();
  expect(response.status, JSON.stringify(body)).toBe(200);
  expect(body).toMatchObject({ result: "subscribed", subscription: { status: "active" } });
}

/** Posts a metering request body as the calling platform does; returns the answer's JSON. */
export async function postUsage(stack: Stack, body: string): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${stack.baseUrl}/api/v1/usage/calls`, {
    method: "POST",
    headers: { authorization: `Bearer ${METERING_TOKEN}`, "content-type": "application/json" },
    body,
  });
  return { status: response.status, json: await response.json() };
}

/**
 * Reports calls adding up to `minutes` through the metering API (each call at most 1,200 minutes). Reports
 * with the same `batch` name are the same calls (counted once).
 */
export async function reportMinutes(
  stack: Stack,
  accountId: string,
  minutes: number,
  batch = "dashboard-e2e",
): Promise<void> {
  const events = [];
  for (let left = minutes, i = 0; left > 0; left -= 1200, i++) {
    events.push({
      call_id: `${batch}-${accountId}-${i}`,
      account_id: accountId,
      direction: i % 2 === 0 ? "outbound" : "inbound",
      started_at: new Date().toISOString(),
      duration_seconds: Math.min(left, 1200) * 60,
    });
  }
  const { status, json } = await postUsage(stack, JSON.stringify({ events }));
  expect(status).toBe(200);
  expect((json as { accepted: number }).accepted).toBe(events.length);
}
