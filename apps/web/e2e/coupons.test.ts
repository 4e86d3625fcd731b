// Coupons end to end in both apps: an admin creates a coupon and its promotion code in the admin app (synced
// to the stack's Stripe emulator); a new customer types the code on package selection, sees each package's
// discounted price (and why a wrong code is refused), pays the discounted price on the hosted Checkout page
// and finds the discount on the Billing page and on the invoice.
import { screenshot, testBrowser, testStack, userWithAccount } from "@minutely/testing";
import type { Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { enterCheckoutAddress, PASSWORD } from "./helpers.ts";

const stack = await testStack({ spas: { web: true, admin: true } });
const browser = await testBrowser();
const ADMIN = { email: "coupons-admin@example.com", password: "admin-password-1" };
await stack.createUser({ ...ADMIN, role: "admin" });
let admin: Page;
let customer: Page;

afterAll(async () => {
  await admin?.close();
  await customer?.close();
});

describe("coupons and promotion codes", () => {
  it("an admin creates a coupon for Pro and a code for it; bad input names the field", async () => {
    admin = await browser.newPage();
    await admin.goto(`${stack.baseUrl}/admin/coupons`);
    await admin.getByRole("heading", { name: "Admin sign in" }).waitFor();
    await admin.getByLabel("Email").fill(ADMIN.email);
    await admin.getByLabel("Password").fill(ADMIN.password);
    await admin.getByRole("button", { name: "Sign in" }).click();
    await admin.getByRole("heading", { name: "Coupons", exact: true }).waitFor();

    // 0% is refused by the server, in the words shown at the field and in the summary.
    await admin.getByLabel("Name", { exact: true }).fill("Pro launch");
    await admin.getByLabel("Percent off").fill("0");
    await admin.getByRole("button", { name: "Create coupon" }).click();
    const summary = admin.getByRole("alert").filter({ hasText: "There is a problem" });
    await summary.waitFor();
    expect(await summary.textContent()).toContain("Percent off: Percent off must be at least 1");
    await screenshot(admin, "admin-coupon-bad-input");

    await admin.getByLabel("Percent off").fill("20");
    await admin.getByLabel("Duration").selectOption("repeating");
    await admin.getByLabel("Months").fill("3");
    await admin.getByLabel(/^Pro \(/).check();
    await admin.getByRole("button", { name: "Create coupon" }).click();
    await admin.getByText("Pro launch is created: 20% off for 3 months.").waitFor();
    const row = admin.getByTestId("coupon-Pro launch");
    expect(await row.textContent()).toContain("On Stripe");

    await row.getByLabel("New code", { exact: true }).fill("launch20");
    await row.getByRole("button", { name: "Add code" }).click();
    await admin.getByText("Customers can now use LAUNCH20 (20% off for 3 months).").waitFor();
    await row.getByText("LAUNCH20", { exact: true }).waitFor();
    await screenshot(admin, "admin-coupon-created");
  });

  it("a customer enters the code, sees the discounted price, pays it and finds it on the invoice", async () => {
    customer = await browser.newPage();
    await customer.goto(`${stack.baseUrl}/sign-up`);
    await customer.getByLabel("Name").fill("Dana Discount");
    await customer.getByLabel("Email").fill("dana@example.com");
    await customer.getByLabel("Password").fill(PASSWORD);
    await customer.getByRole("button", { name: "Create account" }).click();
    await customer.getByRole("heading", { name: "Choose your package" }).waitFor();

    // A code that does not exist: the reason, and no price changes.
    const code = customer.getByLabel("Promotion code", { exact: true });
    await code.fill("NOSUCHCODE");
    await customer.getByRole("button", { name: "Apply" }).click();
    const message = customer.getByTestId("promotion-code-message");
    await message.getByText('"NOSUCHCODE" is not a valid promotion code. Check the spelling.').waitFor();
    expect(await customer.getByTestId("discounted-price").count()).toBe(0);
    await screenshot(customer, "web-coupon-invalid-code");

    // The real code, typed in lower case: Pro is $79.20 instead of $99.00; Starter is not discounted.
    await code.fill("launch20");
    await customer.getByRole("button", { name: "Apply" }).click();
    await message.getByText("Code LAUNCH20 applied. The prices below include it.").waitFor();
    const pro = customer.getByTestId("package-Pro");
    await pro.getByTestId("discounted-price").waitFor();
    expect(await pro.getByTestId("discounted-price").textContent()).toContain("$79.20/month");
    expect(await pro.textContent()).toContain("20% off for 3 months with LAUNCH20");
    expect(
      await customer.getByTestId("package-Starter").getByTestId("code-not-applicable").textContent(),
    ).toBe("LAUNCH20 does not apply to Starter.");
    await screenshot(customer, "web-coupon-discounted-prices");

    await pro.getByRole("button", { name: "Choose Pro" }).click();
    await customer.waitForURL(/\/checkout\/cs_/);
    expect(await customer.locator("body").textContent()).toContain("79.20");
    await screenshot(customer, "web-coupon-checkout");
    await customer.locator("#card-visa").check();
    await enterCheckoutAddress(customer);
    await customer.locator("#submit").click();
    await customer.waitForURL(/\/billing\/return\?session_id=cs_/);
    await customer.getByRole("heading", { name: "You're subscribed to Pro" }).waitFor();

    await customer.goto(`${stack.baseUrl}/billing`);
    const discount = customer.getByTestId("subscription-discount");
    await discount.waitFor();
    expect(await discount.textContent()).toContain("Discount (code LAUNCH20): 20% off for 3 months");
    expect(await discount.textContent()).toContain("You pay $79.20/month instead of $99.00");
    expect(await discount.textContent()).toContain("Overage minutes are billed at the full rate.");
    const invoices = customer.getByRole("table", { name: "Invoices" });
    await invoices.getByRole("cell", { name: "$79.20", exact: true }).waitFor();
    expect(await invoices.getByTestId("invoice-discount").textContent()).toContain("−$19.80");
    await screenshot(customer, "web-coupon-billing");
  });

  it("the admin sees the subscription on the coupon", async () => {
    await admin.reload();
    const row = admin.getByTestId("coupon-Pro launch");
    await row.waitFor();
    expect(await row.getByRole("cell").nth(4).textContent()).toBe("1");
  });

  it("an admin applies another coupon to the customer's subscription; the customer's Billing page says so", async () => {
    await admin.getByLabel("Name", { exact: true }).fill("Goodwill");
    await admin.getByLabel("Percent off").fill("50");
    await admin.getByLabel("Duration").selectOption("forever");
    await admin.getByRole("button", { name: "Create coupon" }).click();
    await admin.getByText("Goodwill is created: 50% off on every invoice.").waitFor();

    const user = await userWithAccount(stack.database.db, { email: "dana@example.com" });
    await admin.goto(`${stack.baseUrl}/admin/customers/${user.accountId}`);
    await admin
      .getByLabel("Apply a coupon to this subscription")
      .selectOption({ label: "Goodwill: 50% off on every invoice" });
    await admin.getByRole("button", { name: "Apply coupon" }).click();
    await admin
      .getByText("Applied: 50% off on every invoice. The customer pays $49.50/month from the next invoice.")
      .waitFor();
    await screenshot(admin, "admin-coupon-applied-to-customer");

    await customer.reload();
    const discount = customer.getByTestId("subscription-discount");
    await discount.getByText(/^Discount: 50% off on every invoice/).waitFor();
    expect(await discount.textContent()).toContain("You pay $49.50/month instead of $99.00");
    await screenshot(customer, "web-coupon-applied-by-admin");
  });
});

describe("codes typed in Checkout, and the upgrade preview", () => {
  it("a customer types a code on the hosted Checkout page and is billed the discounted price", async () => {
    await admin.goto(`${stack.baseUrl}/admin/coupons`);
    const row = admin.getByTestId("coupon-Goodwill");
    await row.getByLabel("New code", { exact: true }).fill("GOODWILL50");
    await row.getByRole("button", { name: "Add code" }).click();
    await admin.getByText("Customers can now use GOODWILL50 (50% off on every invoice).").waitFor();

    const page = await browser.newPage();
    await page.goto(`${stack.baseUrl}/sign-up`);
    await page.getByLabel("Name").fill("Casey Checkout");
    await page.getByLabel("Email").fill("casey@example.com");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Choose your package" }).waitFor();
    await page.getByRole("button", { name: "Choose Starter" }).click();
    await page.waitForURL(/\/checkout\/cs_/);
    await page.getByLabel("Promotion code").fill("goodwill50");
    await page.locator("#card-visa").check();
    await enterCheckoutAddress(page);
    await page.locator("#submit").click();
    await page.waitForURL(/\/billing\/return\?session_id=cs_/);
    await page.getByRole("heading", { name: "You're subscribed to Starter" }).waitFor();
    await page.goto(`${stack.baseUrl}/billing`);
    const discount = page.getByTestId("subscription-discount");
    await discount.getByText(/^Discount \(code GOODWILL50\): 50% off on every invoice/).waitFor();
    await page
      .getByRole("table", { name: "Invoices" })
      .getByRole("cell", { name: "$14.50", exact: true })
      .waitFor();
    await screenshot(page, "web-coupon-typed-in-checkout");
    await page.close();
  });

  it("the upgrade preview says the discount stays and charges the discounted proration", async () => {
    await customer.goto(`${stack.baseUrl}/packages`);
    await customer.getByRole("button", { name: "Upgrade to Enterprise" }).click();
    const note = customer.getByTestId("preview-discount");
    await note.waitFor();
    expect(await note.textContent()).toContain(
      "Your discount stays on your subscription: 50% off on every invoice",
    );
    // The test clock stands at the period's start: the rest of the period is all of it, at half price.
    expect(await customer.getByTestId("preview-charge").textContent()).toBe("$149.50");
    await screenshot(customer, "web-coupon-upgrade-preview");
  });
});
