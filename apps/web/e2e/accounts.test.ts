// Password reset and email verification in the browser (issue #24, step 1): the sign-up mails a link, the
// layout asks for it and refuses to buy until it is followed; "Forgot your password?" mails a reset link
// that sets a new password once. Links are read from the outbox (mail_message), as from an inbox. The
// built SPA, the real API (with the buy gate on, as in production) and the Stripe emulator.
import { screenshot, testBrowser, testStack, userWithAccount } from "@minutely/testing";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, signIn } from "./helpers.ts";

const stack = await testStack({ spas: { web: true }, env: { REQUIRE_VERIFIED_EMAIL_TO_BUY: "true" } });
const browser = await testBrowser();
const db = stack.database.db;
let page: Page;

/** The path and query of the last link to `path` mailed to `to`. */
async function mailedLink(to: string, path: string): Promise<string> {
  const mails = await db.mailMessage.findMany({ where: { to }, orderBy: { createdAt: "desc" } });
  for (const mail of mails) {
    const match = new RegExp(`https?://[^/\\s]+(${path}\\?token=\\S+)`).exec(mail.text);
    if (match?.[1]) return match[1];
  }
  throw new Error(`no ${path} link mailed to ${to}`);
}

beforeAll(async () => {
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
});

describe("email verification and the buy gate", () => {
  it("asks an unverified user to confirm, refuses to buy, and buys once the mailed link is followed", async () => {
    const email = "vic@example.com";
    await page.goto(`${stack.baseUrl}/sign-up`);
    await page.getByLabel("Name").fill("Vic Verify");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Choose your package" }).waitFor();
    const banner = page.getByText("You can use Minutely meanwhile");
    await banner.waitFor();
    await page.getByRole("button", { name: "Choose Pro" }).click();
    await page.getByText(/Confirm your email address \(vic@example\.com\) before buying/).waitFor();
    expect(page.url()).not.toMatch(/checkout/);
    await screenshot(page, "web-accounts-unverified-buy-refused");

    // "Send a new link" works and says so.
    await page.getByRole("button", { name: "Send a new link" }).click();
    await page.getByText("A new link is on its way").waitFor();

    await page.goto(`${stack.baseUrl}${await mailedLink(email, "/verify-email")}`);
    await page.getByText("Your email address is confirmed").waitFor();
    await screenshot(page, "web-accounts-email-verified");
    expect((await userWithAccount(db, { email })).emailVerified).toBe(true);

    await page.goto(`${stack.baseUrl}/packages`);
    await page.getByRole("heading", { name: "Choose your package" }).waitFor();
    expect(await page.getByText("You can use Minutely meanwhile").count()).toBe(0);
    await page.getByRole("button", { name: "Choose Pro" }).click();
    await page.waitForURL(/\/checkout\/cs_/);
  });

  it("says a damaged verification link is not valid", async () => {
    await page.goto(`${stack.baseUrl}/verify-email?token=damaged`);
    await page.getByText("This link is not valid").waitFor();
    await screenshot(page, "web-accounts-verify-invalid");
  });
});

describe("password reset", () => {
  it("mails a link from the sign-in page, sets the new password once, and signs in with it", async () => {
    const email = "rosa@example.com";
    const context = await browser.newContext();
    const other = await context.newPage();
    await other.goto(`${stack.baseUrl}/sign-up`);
    await other.getByLabel("Name").fill("Rosa Reset");
    await other.getByLabel("Email").fill(email);
    await other.getByLabel("Password").fill(PASSWORD);
    await other.getByRole("button", { name: "Create account" }).click();
    await other.getByRole("heading", { name: "Choose your package" }).waitFor();

    const fresh = await browser.newContext();
    const reset = await fresh.newPage();
    await reset.goto(`${stack.baseUrl}/sign-in`);
    await reset.getByRole("link", { name: "Forgot your password?" }).click();
    await reset.getByLabel("Email").fill(email);
    await reset.getByRole("button", { name: "Send reset link" }).click();
    await reset.getByText(`If ${email} has a Minutely sign-in`).waitFor();
    await screenshot(reset, "web-accounts-reset-requested");

    const link = await mailedLink(email, "/reset-password");
    await reset.goto(`${stack.baseUrl}${link}`);
    await reset.getByLabel("New password").fill("short");
    await reset.getByRole("button", { name: "Set new password" }).click();
    await reset.getByText("Use at least 8 characters.").first().waitFor();
    await reset.getByLabel("New password").fill("a brand new password");
    // A double click sets it once and shows one answer.
    await reset.getByRole("button", { name: "Set new password" }).dblclick();
    await reset.getByText("Your new password is set").waitFor();
    await screenshot(reset, "web-accounts-reset-done");

    // The other browser's session ended with the reset.
    const session = await other.request.get(`${stack.baseUrl}/api/auth/get-session`);
    expect(await session.json()).toBeNull();

    // The link works once.
    await reset.goto(`${stack.baseUrl}${link}`);
    await reset.getByLabel("New password").fill("yet another password");
    await reset.getByRole("button", { name: "Set new password" }).click();
    await reset.getByText("This reset link was already used or has expired").waitFor();
    await screenshot(reset, "web-accounts-reset-used");

    await signIn(stack, reset, email, "a brand new password");
    await context.close();
    await fresh.close();
  });
});

describe("sessions and password", () => {
  it("lists where the user is signed in, signs out the other device, and changes the password", async () => {
    const email = "sol@example.com";
    const laptop = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      userAgent:
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    });
    const phone = await browser.newContext({
      userAgent:
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    });
    const page = await laptop.newPage();
    await page.goto(`${stack.baseUrl}/sign-up`);
    await page.getByLabel("Name").fill("Sol Sessions");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Choose your package" }).waitFor();
    const phonePage = await phone.newPage();
    await signIn(stack, phonePage, email);

    await page.getByRole("link", { name: email }).click();
    await page.getByRole("heading", { name: "Where you're signed in" }).waitFor();
    const list = page.getByTestId("sessions");
    await list.getByText("Safari on iOS").waitFor();
    expect(await list.getByText("Chrome on macOS").count()).toBe(1);
    expect(await list.getByText("This device").count()).toBe(1);
    await screenshot(page, "web-accounts-sessions");

    await page.getByRole("button", { name: /^Sign out Safari on iOS/ }).dblclick();
    await list.getByText("Safari on iOS").waitFor({ state: "detached" });
    expect(await (await phonePage.request.get(`${stack.baseUrl}/api/auth/get-session`)).json()).toBeNull();

    // Signed in on the phone again: changing the password signs it out.
    await signIn(stack, phonePage, email);
    await page.getByLabel("Current password").fill("not the password");
    await page.getByLabel("New password").fill("an even newer password");
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByText("The current password is not right.").waitFor();
    await page.getByLabel("Current password").fill(PASSWORD);
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByText("Password changed. Every other session is signed out.").waitFor();
    await screenshot(page, "web-accounts-password-changed");
    expect(await (await phonePage.request.get(`${stack.baseUrl}/api/auth/get-session`)).json()).toBeNull();
    // This device carries on.
    await page.reload();
    await page.getByRole("heading", { name: "Where you're signed in" }).waitFor();

    // Company settings: a bad address is named; a good one is where invoices go.
    await page.getByLabel("Company name").fill("Sol Calls Ltd");
    await page.getByLabel("Billing email").fill("not an address");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Enter an email address such as billing@example.com").waitFor();
    await page.getByLabel("Billing email").fill("invoices@sol.example");
    await page.getByRole("button", { name: "Save" }).dblclick();
    await page.getByText("Saved. Invoices go to invoices@sol.example.").waitFor();
    await screenshot(page, "web-accounts-company-saved");
    const user = await userWithAccount(db, { email });
    expect(user.account).toMatchObject({ name: "Sol Calls Ltd", billingEmail: "invoices@sol.example" });
    await laptop.close();
    await phone.close();
  });
});
