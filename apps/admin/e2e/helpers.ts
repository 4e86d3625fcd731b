// Shared steps of the admin browser tests: sign in, and make customer data through the real API (sign-up,
// subscriptions with a test card, agents, usage reports) the way the customer app and the calling platform do.
import type { Stack } from "@minutely/testing";
import type { Browser, Page } from "playwright-core";
import { expect } from "vitest";

export const ADMIN = { email: "ops@example.com", password: "admin-password-1" };

export async function signIn(
  stack: Stack,
  browser: Browser,
  path: string,
  options: { viewport?: { width: number; height: number }; email?: string; password?: string } = {},
): Promise<Page> {
  const page = await browser.newPage(options.viewport ? { viewport: options.viewport } : {});
  await page.goto(`${stack.baseUrl}/admin${path}`);
  await page.getByRole("heading", { name: "Admin sign in" }).waitFor();
  await page.getByLabel("Email").fill(options.email ?? ADMIN.email);
  await page.getByLabel("Password").fill(options.password ?? ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Admin" }).waitFor();
  return page;
}

/** How far the page scrolls sideways (0 when everything fits the viewport). */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

export async function packageId(stack: Stack, name: string): Promise<string> {
  // The API syncs the seeded catalog to Stripe when it starts; a package needs its Stripe price to be sold.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const plan = await stack.database.db.subscriptionPlan.findUniqueOrThrow({ where: { name } });
    if (plan.stripePriceId) return plan.id;
    if (Date.now() > deadline) throw new Error(`${name} has no Stripe price after 30 s:\n${stack.logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function action(stack: Stack, cookie: string, body: Record<string, unknown>) {
  const response = await fetch(`${stack.baseUrl}/api/subscriptions/user/actions/`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie, origin: stack.baseUrl },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  expect(response.status, `${body.action}: ${text}`).toBe(200);
  return JSON.parse(text) as { result: string; subscription?: Record<string, unknown> };
}

/** Signs a customer up and subscribes them with Stripe's test card, through the seed's REST contract. */
export async function subscribedCustomer(
  stack: Stack,
  input: { name: string; email: string; plan: string; card?: string },
) {
  const user = await stack.createUser({
    email: input.email,
    password: "customer-password-1",
    name: input.name,
  });
  const result = await action(stack, user.cookie, {
    action: "subscribe",
    package_id: await packageId(stack, input.plan),
    payment_method_id: input.card ?? "pm_card_visa",
  });
  expect(result.result).toBe("subscribed");
  return user;
}

export async function upgrade(stack: Stack, cookie: string, plan: string) {
  return await action(stack, cookie, { action: "upgrade", package_id: await packageId(stack, plan) });
}

/** Creates an agent through the customer app's tRPC API. */
export async function createAgent(stack: Stack, cookie: string, name: string): Promise<string> {
  const response = await fetch(`${stack.baseUrl}/trpc/agents.create`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie, origin: stack.baseUrl },
    body: JSON.stringify({ json: { name } }),
  });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return (JSON.parse(text) as { result: { data: { json: { id: string } } } }).result.data.json.id;
}

let callCounter = 0;

/** Reports finished calls (minutes each, whole minutes) through the metering API, as the calling platform does. */
export async function reportCalls(
  stack: Stack,
  accountId: string,
  minutes: number[],
  options: { agentId?: string; startedAt?: Date } = {},
) {
  // Now: after the subscription started (its period begins when Stripe created it), so nothing is late.
  const startedAt = options.startedAt ?? new Date();
  const response = await fetch(`${stack.baseUrl}/api/v1/usage/calls`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer dev-metering-token" },
    body: JSON.stringify({
      events: minutes.map((m, i) => {
        callCounter += 1;
        return {
          call_id: `e2e-call-${Date.now()}-${callCounter}`,
          account_id: accountId,
          agent_id: options.agentId ?? null,
          direction: i % 2 === 0 ? "inbound" : "outbound",
          started_at: new Date(startedAt.getTime() + i * 1000).toISOString(),
          duration_seconds: m * 60,
        };
      }),
    }),
  });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  const body = JSON.parse(text) as { accepted: number; results: { status: string; late?: boolean }[] };
  expect(body.accepted, text).toBe(minutes.length);
  expect(body.results.filter((r) => r.late).length, text).toBe(0);
}

/** Polls until `check` returns a value (not null/undefined/false); fails with the API's log after 30 s. */
export async function waitFor<T>(
  stack: Stack,
  what: string,
  check: () => Promise<T | null | undefined | false>,
) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await check();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`${what} did not happen within 30 s:\n${stack.logs().slice(-4000)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
