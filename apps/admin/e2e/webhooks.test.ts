// Webhook events in Chromium against the real API: a customer subscribes through the real API, so the
// Stripe emulator delivers real, signed webhooks that the worker processes. Two events that failed are
// recorded as the worker leaves them (one still retrying, one given up on); the admin replays the failed
// one and the worker processes it.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { ADMIN, horizontalOverflow, signIn, subscribedCustomer, waitFor } from "./helpers.ts";

const stack = await testStack({ spas: { admin: true } });
const browser = await testBrowser();
const db = stack.database.db;
await stack.createUser({ ...ADMIN, role: "admin" });

const customer = await subscribedCustomer(stack, {
  name: "Hooked Dental",
  email: "hook@hooked.test",
  plan: "Pro",
});
const subscription = await db.subscription.findFirstOrThrow({ where: { accountId: customer.accountId } });
const account = await db.account.findUniqueOrThrow({ where: { id: customer.accountId } });
await waitFor(stack, "the subscription's webhooks to be processed", async () => {
  const events = await db.stripeEvent.findMany({ where: { type: { startsWith: "customer.subscription." } } });
  return events.length > 0 && events.every((e) => e.status === "processed");
});

const ERROR = "Stripe API unavailable: connect ECONNREFUSED 127.0.0.1:12111";
const failedAt = new Date();
async function failedEvent(id: string, attempts: number) {
  await db.stripeEvent.create({
    data: {
      id,
      type: "customer.subscription.updated",
      payload: {
        id,
        object: "event",
        type: "customer.subscription.updated",
        created: Math.floor(failedAt.getTime() / 1000),
        data: {
          object: {
            id: subscription.stripeSubscriptionId,
            object: "subscription",
            customer: account.stripeCustomerId,
          },
        },
      },
      status: "failed",
      attempts,
      lastError: ERROR,
      stripeCreatedAt: failedAt,
      receivedAt: new Date(failedAt.getTime() + 1000),
    },
  });
}
await failedEvent("evt_e2e_gave_up", 25);
await failedEvent("evt_e2e_retrying", 3);

function eventRow(page: Page, id: string) {
  return page.locator(`tbody > tr[data-event="${id}"]`);
}

describe("admin webhook events", () => {
  it("lists every received event with its status, attempts and error; filters by status and type", async () => {
    const page = await signIn(stack, browser, "/webhooks");
    await page.getByRole("heading", { name: "Webhook events" }).waitFor();
    await eventRow(page, "evt_e2e_gave_up").waitFor();
    const total = await db.stripeEvent.count();
    expect(await page.locator("tbody > tr[data-event]").count()).toBe(Math.min(25, total));
    const gaveUp = await eventRow(page, "evt_e2e_gave_up").textContent();
    expect(gaveUp).toContain("Failed");
    expect(gaveUp).toContain(ERROR);
    expect(await eventRow(page, "evt_e2e_retrying").textContent()).toContain("Retrying");
    // The newest processed event: the first page shows the 25 newest, and a subscription with Stripe Tax sends
    // more than 25 events, so an older one may be on the next page.
    const processed = await db.stripeEvent.findFirstOrThrow({
      where: { status: "processed" },
      orderBy: [{ receivedAt: "desc" }, { id: "desc" }],
    });
    expect(await eventRow(page, processed.id).textContent()).toContain("Processed");
    expect(await page.getByRole("button", { name: "Failed (1)" }).getAttribute("aria-pressed")).toBe("false");
    await screenshot(page, "admin-webhooks");

    await page.getByRole("button", { name: "Failed (1)" }).click();
    await page.getByText("Processing failed for good").waitFor();
    await page.waitForFunction(() => document.querySelectorAll("tbody > tr[data-event]").length === 1);
    expect(await eventRow(page, "evt_e2e_gave_up").count()).toBe(1);
    expect(new URL(page.url()).searchParams.get("status")).toBe("failed");

    await page.getByRole("button", { name: "Retrying (1)" }).click();
    await eventRow(page, "evt_e2e_retrying").waitFor();
    await page.waitForFunction(() => document.querySelectorAll("tbody > tr[data-event]").length === 1);

    await page.getByRole("button", { name: "All", exact: true }).click();
    await page.getByLabel("Event type").fill("invoice.");
    await page.waitForFunction(() => {
      const types = [...document.querySelectorAll("tbody > tr[data-event] th a")].map((a) => a.textContent);
      return types.length > 0 && types.every((t) => t?.startsWith("invoice."));
    });
    const invoices = await db.stripeEvent.count({ where: { type: { startsWith: "invoice." } } });
    expect(await page.locator("tbody > tr[data-event]").count()).toBe(Math.min(25, invoices));
  });

  it("shows an event's payload and error, and replays a failed one: the worker processes it", async () => {
    const page = await signIn(stack, browser, "/webhooks?status=failed");
    await eventRow(page, "evt_e2e_gave_up")
      .getByRole("link", { name: "customer.subscription.updated" })
      .click();
    await page.getByRole("heading", { name: "customer.subscription.updated", level: 1 }).waitFor();
    const processing = page.getByRole("region", { name: "Processing" });
    expect(await processing.textContent()).toContain("25 of at most 25");
    expect(await processing.textContent()).toContain(ERROR);
    expect(await processing.getByRole("link", { name: "Hooked Dental" }).count()).toBe(1);
    const payload = await page.getByRole("region", { name: "Event payload (JSON)" }).textContent();
    expect(JSON.parse(payload ?? "")).toMatchObject({
      id: "evt_e2e_gave_up",
      data: { object: { id: subscription.stripeSubscriptionId } },
    });
    await screenshot(page, "admin-webhook-failed");

    await page.getByRole("button", { name: "Replay event" }).click();
    const dialog = page.getByRole("dialog", { name: "Replay this event?" });
    await dialog.getByText("recorded in the audit log under your name").waitFor();
    await dialog.getByRole("button", { name: "Replay event" }).click();
    await dialog.waitFor({ state: "hidden" });
    // The worker re-reads the subscription from the emulator; the page looks again until it is done.
    await page.getByText("Replayed and processed.").waitFor();
    expect(await processing.textContent()).toContain("Processed");
    expect(await page.getByRole("button", { name: "Replay event" }).count()).toBe(0);
    const event = await db.stripeEvent.findUniqueOrThrow({ where: { id: "evt_e2e_gave_up" } });
    expect(event).toMatchObject({ status: "processed", attempts: 1, lastError: null });
    const audit = await db.auditLog.findFirstOrThrow({ where: { entityId: "evt_e2e_gave_up" } });
    expect(audit).toMatchObject({
      actorEmail: ADMIN.email,
      action: "webhook.replay",
      entityType: "stripe_event",
    });
    await screenshot(page, "admin-webhook-replayed");

    await page.getByRole("link", { name: "← All webhook events" }).click();
    // The counts come with the list: nothing failed any more, one event is still retrying.
    await page.getByRole("button", { name: "Retrying (1)" }).waitFor();
    await page.getByRole("button", { name: "Failed", exact: true }).waitFor();
    expect(await page.getByRole("button", { name: /^Failed \(/ }).count()).toBe(0);
  });

  it("says so for an unknown event, and fits a phone", async () => {
    const phone = await signIn(stack, browser, "/webhooks/evt_does_not_exist", {
      viewport: { width: 390, height: 844 },
    });
    await phone.getByText("No such webhook event").waitFor();
    await phone.goto(`${stack.baseUrl}/admin/webhooks`);
    await eventRow(phone, "evt_e2e_retrying").waitFor();
    expect(await horizontalOverflow(phone)).toBe(0);
    await phone.goto(`${stack.baseUrl}/admin/webhooks/evt_e2e_retrying`);
    await phone.getByRole("heading", { name: "customer.subscription.updated", level: 1 }).waitFor();
    expect(await horizontalOverflow(phone)).toBe(0);
    await screenshot(phone, "admin-webhook-phone");
  });
});
