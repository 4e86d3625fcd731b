// Usage and alerts in Chromium against the real API: customers subscribe and report calls through the
// metering API; the page lists the accounts near or over their limits (most urgent first) and the alert
// mail the worker put in the development outbox.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { ADMIN, horizontalOverflow, reportCalls, signIn, subscribedCustomer, waitFor } from "./helpers.ts";

const stack = await testStack({ spas: { admin: true } });
const browser = await testBrowser();
const db = stack.database.db;
await stack.createUser({ ...ADMIN, role: "admin" });

const heavy = await subscribedCustomer(stack, {
  name: "Heavy Calls Co",
  email: "hana@heavy.test",
  plan: "Starter",
});
const busy = await subscribedCustomer(stack, { name: "Busy Vets", email: "bo@busy-vets.test", plan: "Pro" });
const quiet = await subscribedCustomer(stack, { name: "Quiet Co", email: "q@quiet.test", plan: "Pro" });
await reportCalls(stack, heavy.accountId, [600, 250]); // 850 of 1,000: 85%
await reportCalls(stack, heavy.accountId, [250]); // 1,100 of 1,000: over the hard cap
await reportCalls(stack, busy.accountId, [700, 800, 1000]); // 2,500 of 3,000: 83.3%
await reportCalls(stack, quiet.accountId, [100]);
// The worker mails every alert (80% and 100% for Heavy, 80% for Busy) into the outbox.
await waitFor(stack, "three alert mails", async () => (await db.mailMessage.count()) >= 3);

function rows(page: Page) {
  return page.locator("tbody > tr[data-account]");
}

describe("admin usage and alerts", () => {
  it("lists the accounts near or over their limits, most urgent first", async () => {
    const page = await signIn(stack, browser, "/usage");
    await page.getByRole("heading", { name: "Usage and alerts" }).waitFor();
    await rows(page).first().waitFor();
    expect(await rows(page).evaluateAll((r) => r.map((x) => (x as HTMLElement).dataset.account))).toEqual([
      "Heavy Calls Co",
      "Busy Vets",
    ]);
    const heavyRow = await rows(page).first().textContent();
    expect(heavyRow).toContain("hana@heavy.test");
    expect(heavyRow).toContain("110%");
    expect(heavyRow).toContain("1,100 of 1,000 min");
    expect(heavyRow).toContain("Hard cap");
    const busyRow = await rows(page).nth(1).textContent();
    expect(busyRow).toContain("83.3%");
    expect(busyRow).toContain("Billed per minute");
    await page.getByText("Showing 1–2 of 2 accounts").waitFor();

    await page.getByLabel("Minutes used").selectOption("100");
    await page.getByText("Showing 1–1 of 1 account").waitFor();
    expect(await rows(page).count()).toBe(1);
    expect(new URL(page.url()).searchParams.get("min")).toBe("100");

    await rows(page).first().getByRole("link", { name: "Heavy Calls Co" }).click();
    await page.getByRole("heading", { name: "Heavy Calls Co", level: 1 }).waitFor();
  });

  it("shows the development outbox with the alert mail, readable in place", async () => {
    const page = await signIn(stack, browser, "/usage");
    const outbox = page.getByRole("region", { name: "Mail outbox" });
    await outbox.getByText("Development: not delivered").waitFor();
    const mails = outbox.locator("li");
    await mails.first().waitFor();
    const expected = await db.mailMessage.findMany({ orderBy: { createdAt: "desc" } });
    expect(await mails.count()).toBe(expected.length);
    const heavyMail = outbox.locator("li", { hasText: "to hana@heavy.test" }).first();
    await heavyMail.locator("summary").click();
    const body = expected.find((m) => m.to === "hana@heavy.test")?.text ?? "";
    expect(body.length).toBeGreaterThan(20);
    const shown = await outbox.locator("details[open] pre").first().textContent();
    expect(expected.filter((m) => m.to === "hana@heavy.test").map((m) => m.text)).toContain(shown);
    await screenshot(page, "admin-usage");
  });

  it("fits a phone", async () => {
    const page = await signIn(stack, browser, "/usage", { viewport: { width: 390, height: 844 } });
    await rows(page).first().waitFor();
    expect(await horizontalOverflow(page)).toBe(0);
    await screenshot(page, "admin-usage-phone");
  });
});
