// Buying in EUR end to end (issue #25): a customer whose browser says en-GB sees GBP prices by default,
// picks EUR in the currency selector, sees the EUR prices (Pro €95.00), pays Pro through the hosted Checkout
// page in EUR, and then finds € on the dashboard, on the Billing page and on the invoice; the packages page
// no longer offers a currency choice (the account's currency is fixed).
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { enterCheckoutAddress, PASSWORD } from "./helpers.ts";

const stack = await testStack({ spas: { web: true } });
const browser = await testBrowser();
let page: Page;

afterAll(async () => {
  await page?.close();
});

describe("buying in euros", () => {
  it("a customer picks EUR, subscribes to Pro through Checkout and sees € everywhere after", async () => {
    page = await browser.newPage({ locale: "en-GB" });
    await page.goto(`${stack.baseUrl}/sign-up`);
    await page.getByLabel("Name").fill("Elena Euro");
    await page.getByLabel("Email").fill("elena@example.com");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Choose your package" }).waitFor();

    // The browser's locale (en-GB) picks GBP first.
    const selector = page.getByLabel("Currency");
    expect(await selector.inputValue()).toBe("gbp");
    await page.getByTestId("package-Pro").getByText("£85.00").waitFor();

    // The customer picks EUR: every price is the package's EUR price.
    await selector.selectOption("eur");
    const pro = page.getByTestId("package-Pro");
    await pro.getByText("€95.00").waitFor();
    await page.getByTestId("package-Starter").getByText("€29.00").waitFor();
    await page.getByTestId("package-Enterprise").getByText("€289.00").waitFor();
    expect(await pro.textContent()).toContain("Then €0.03/minute");
    await screenshot(page, "web-currency-eur-selected");

    // A reload (or a Checkout cancelled back to this page) keeps the pick, not the locale's GBP.
    await page.reload();
    await page.getByTestId("package-Pro").getByText("€95.00").waitFor();
    expect(await page.getByLabel("Currency").inputValue()).toBe("eur");

    await pro.getByRole("button", { name: /Choose Pro|Start/ }).click();
    await page.waitForURL(/\/checkout\/cs_/);
    // The hosted Checkout page charges €95.00.
    expect(await page.locator("body").textContent()).toMatch(/95\.00/);
    expect((await page.locator("body").textContent())?.toLowerCase()).toMatch(/eur|€/);
    await page.locator("#card-visa").check();
    await enterCheckoutAddress(page);
    await page.locator("#submit").click();
    await page.waitForURL(/\/billing\/return\?session_id=cs_/);
    await page.getByRole("heading", { name: "You're subscribed to Pro" }).waitFor();

    const db = stack.database.db;
    const row = await db.subscription.findFirstOrThrow({
      where: { account: { members: { some: { user: { email: "elena@example.com" } } } } },
    });
    expect(row.currency).toBe("eur");

    await page.goto(`${stack.baseUrl}/`);
    const subscription = page.getByTestId("dashboard-subscription");
    await subscription.getByText("€95.00 a month").waitFor();
    await screenshot(page, "web-currency-eur-dashboard");

    await page.goto(`${stack.baseUrl}/billing`);
    const card = page.getByTestId("subscription-card");
    await card.getByText(/€95\.00\/month excl\. tax/).waitFor();
    await page.getByText("€95.00").first().waitFor();
    await screenshot(page, "web-currency-eur-billing");

    // The account's currency is now fixed: no selector, the prices in EUR whatever the browser says.
    await page.goto(`${stack.baseUrl}/packages`);
    await page
      .getByTestId("billing-currency")
      .getByText("Prices in EUR, your account's billing currency.")
      .waitFor();
    expect(await page.getByLabel("Currency").count()).toBe(0);
    await page.getByTestId("package-Enterprise").getByText("€289.00").waitFor();
    await screenshot(page, "web-currency-eur-fixed");
  });
});
