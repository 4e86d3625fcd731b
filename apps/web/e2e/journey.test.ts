// The customer journey after the first payment (issue 19, items 12-14), in Chromium against the built SPA,
// the real API and the Stripe emulator: a Starter customer who paid on the hosted Checkout page reaches the
// cap in the period's first hour, sees calls paused and the upgrade on the dashboard, upgrades, is told on
// the Billing page what was charged and what comes next, and reads each invoice line by line.
import { screenshot, testBrowser, testStack, userWithAccount } from "@minutely/testing";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { reportMinutes, signUpAndPay } from "./helpers.ts";

const stack = await testStack({ spas: { web: true } });
const browser = await testBrowser();
const db = stack.database.db;
const EMAIL = "ulla@example.com";
let page: Page;
let accountId: string;
let charged = "";

const dateText = (date: Date) =>
  date.toLocaleDateString("en-US", { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" });
const money = (cents: number) =>
  `${cents < 0 ? "-" : ""}$${(Math.abs(cents) / 100).toLocaleString("en-US", { minimumFractionDigits: 2 })}`;

beforeAll(async () => {
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signUpAndPay(stack, page, { name: "Ulla Upgrade", email: EMAIL }, "Starter");
  accountId = (await userWithAccount(db, { email: EMAIL })).accountId ?? "";
});

describe("the customer journey, polished", () => {
  it("shows Starter's cap reached in the period's first hour: calls paused, and the upgrade to go on", async () => {
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId } });
    // The premise: the period began minutes ago, too early for any forecast.
    expect(Date.now() - sub.currentPeriodStart.getTime()).toBeLessThan(30 * 60 * 1000);
    await reportMinutes(stack, accountId, 1000);

    await page.goto(`${stack.baseUrl}/`);
    const forecast = page.getByTestId("dashboard-forecast");
    const cap = forecast.getByTestId("forecast-cap");
    await cap.waitFor();
    expect(await forecast.getByTestId("forecast-projection").textContent()).toBe(
      "1,000 of 1,000 minutes so far",
    );
    expect(await cap.textContent()).toBe(
      `Outbound calls are paused until ${dateText(sub.currentPeriodEnd)}: the 1,000 included minutes are used up. Inbound calls are still answered.`,
    );
    expect(await forecast.getByTestId("forecast-advice").textContent()).toBe(
      "You have used 1,000 of the 1,000 minutes Starter includes; Pro lets you keep calling, for $99.00 a month.",
    );
    expect(await forecast.textContent()).not.toContain("too early");
    await screenshot(page, "web-forecast-first-hour-cap");

    await forecast.getByRole("link", { name: "Upgrade to Pro" }).click();
    await page.getByRole("heading", { name: "Subscription & Packages" }).waitFor();
  });

  it("confirms the upgrade on the Billing page it lands on: the plan, the prorated charge, the next charge", async () => {
    await page.getByRole("button", { name: "Upgrade to Pro" }).click();
    const total = page.getByTestId("preview-total");
    await total.waitFor();
    charged = (await total.textContent()) ?? "";
    expect(charged).toMatch(/^\$\d+\.\d\d$/);
    await page.getByRole("button", { name: /and upgrade/ }).click();
    await page.waitForURL(`${stack.baseUrl}/billing`);

    // A live region (role=status) whose words say what happened.
    const status = page.getByRole("status").filter({ hasText: "You're now on Pro" });
    await status.waitFor();
    const invoice = await db.billingHistory.findFirstOrThrow({
      where: { accountId, billingReason: "subscription_update" },
    });
    const sub = await db.subscription.findFirstOrThrow({ where: { accountId } });
    expect(money(invoice.amountPaidCents)).toBe(charged);
    expect(await status.textContent()).toContain(
      `We charged ${charged} now for the rest of this period on Pro (prorated: less the unused time on your previous package), invoice ${invoice.number}. Your next full charge is $99.00 on ${dateText(sub.currentPeriodEnd)}.`,
    );
    expect(await status.getByRole("link", { name: "View the invoice" }).getAttribute("href")).toBe(
      invoice.hostedInvoiceUrl,
    );
    await page.getByTestId("subscription-card").getByText("Pro package").waitFor();
    await screenshot(page, "web-upgrade-confirmation");

    // Nothing stale: a reload, or coming back later, shows no confirmation.
    await page.reload();
    await page.getByTestId("subscription-card").getByText("Pro package").waitFor();
    await page.getByRole("table", { name: "Invoices" }).waitFor();
    expect(await page.getByText("You're now on Pro").count()).toBe(0);
  });

  it("lists each invoice with its lines (description, period, amount), total, status and Stripe's pages", async () => {
    const rows = page.getByRole("table", { name: "Invoices" }).locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(2);
    const [change, first] = await db.billingHistory.findMany({
      where: { accountId },
      orderBy: { issuedAt: "desc" },
    });
    if (!change || !first) throw new Error("expected two invoices");

    const upgradeRow = rows.first();
    expect(await upgradeRow.textContent()).toContain("Plan change (prorated)");
    const upgradeLines = upgradeRow.getByRole("list", { name: `Lines of invoice ${change.number}` });
    const items = upgradeLines.getByRole("listitem");
    expect(await items.count()).toBe(2);
    expect(await items.nth(0).textContent()).toMatch(/^Unused time on (1 × )?Starter after .*-\$\d+\.\d\d$/);
    expect(await items.nth(1).textContent()).toMatch(/^Remaining time on (1 × )?Pro after .*\$\d+\.\d\d$/);
    expect(await upgradeRow.getByRole("cell").nth(3).textContent()).toBe(charged);
    expect(await upgradeRow.textContent()).toContain("paid");
    expect(await upgradeRow.getByRole("link", { name: "View" }).getAttribute("href")).toBe(
      change.hostedInvoiceUrl,
    );
    expect(await upgradeRow.getByRole("link", { name: "PDF" }).getAttribute("href")).toBe(
      change.invoicePdfUrl,
    );

    const firstRow = rows.nth(1);
    expect(await firstRow.textContent()).toContain("First payment");
    const firstLine = firstRow
      .getByRole("list", { name: `Lines of invoice ${first.number}` })
      .getByRole("listitem");
    const [month] = first.lines as { periodStart: string; periodEnd: string }[];
    expect(await firstLine.textContent()).toBe(
      `1 × Starter (at $29.00 / month)${dateText(new Date(month?.periodStart ?? 0))} – ${dateText(
        new Date(month?.periodEnd ?? 0),
      )}$29.00`,
    );
    await screenshot(page, "web-billing-invoice-lines");

    // The links lead to Stripe's own pages for the invoice (the emulator's here).
    const hosted = await fetch(change.hostedInvoiceUrl ?? "");
    expect(hosted.status).toBe(200);
    expect(await hosted.text()).toContain("Remaining time on");
    const pdf = await fetch(change.invoicePdfUrl ?? "");
    expect(pdf.headers.get("content-type")).toMatch(/^application\/pdf/);
  });
});
