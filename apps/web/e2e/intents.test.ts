// Issue 19, items 6, 15 and 16 in the browser: a double click is one intent (one API key, whose secret is
// shown; one cancellation, shown as a success), the new key can be copied, a duplicate name is refused
// naming the field, and the downgrade dialog says what is lost and opens with everything loaded.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";

const stack = await testStack({ spas: { web: true } });
const browser = await testBrowser();
const db = stack.database.db;
const EMAIL = "intent@example.com";
const PASSWORD = "intent-pass-1";
let page: Page;
let accountId = "";

/** Keys sent with the tRPC mutation `path` (the batch link's body holds one input per call). */
function recordKeys(target: Page, path: string): string[] {
  const keys: string[] = [];
  target.on("request", (request) => {
    if (request.method() !== "POST" || !request.url().includes(path)) return;
    const body = JSON.parse(request.postData() ?? "{}") as Record<string, { json?: { requestKey?: string } }>;
    for (const call of Object.values(body)) keys.push(call.json?.requestKey ?? "(none)");
  });
  return keys;
}

async function signIn(target: Page, redirect: string) {
  await target.goto(`${stack.baseUrl}/sign-in?redirect=${redirect}`);
  await target.getByLabel("Email").fill(EMAIL);
  await target.getByLabel("Password").fill(PASSWORD);
  await target.getByRole("button", { name: "Sign in" }).click();
}

beforeAll(async () => {
  const user = await stack.createUser({ email: EMAIL, password: PASSWORD });
  accountId = user.accountId;
  const enterprise = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Enterprise" } });
  const subscribed = await fetch(`${stack.baseUrl}/api/subscriptions/user/actions/`, {
    method: "POST",
    headers: { cookie: user.cookie, origin: stack.baseUrl, "content-type": "application/json" },
    body: JSON.stringify({
      action: "subscribe",
      package_id: enterprise.id,
      payment_method_id: "pm_card_visa",
    }),
  });
  expect(subscribed.status).toBe(200);
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: stack.baseUrl });
  page = await context.newPage();
  await signIn(page, "/api-keys");
  await page.getByRole("heading", { name: "API keys" }).waitFor();
});

describe("API keys", () => {
  it("creates exactly one key for a double click on Create key, and shows its secret", async () => {
    const sent = recordKeys(page, "apiKeys.create");
    await page.getByLabel("Key name").fill("Reporting");
    await page.getByRole("button", { name: "Create key" }).dblclick();
    const secret = page.getByTestId("new-api-key");
    await secret.waitFor();
    const key = await secret.inputValue();
    expect(key).toMatch(/^mk_[0-9a-f]{8}_/);
    const rows = page.getByRole("table", { name: "API keys" }).locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(1);
    expect(await db.apiKey.count({ where: { accountId } })).toBe(1);
    // No error next to the secret (a second create would have been refused as a duplicate name)...
    expect(await page.getByRole("alert").count()).toBe(0);
    expect(await page.getByLabel("Key name").getAttribute("aria-invalid")).toBeNull();
    // ...because the double click sent one request, carrying the intent's key.
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(/^[0-9a-f]{32}$/);
    await screenshot(page, "web-intents-api-key-double-click");

    const works = await fetch(`${stack.baseUrl}/api/v1/usage`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(works.status).toBe(200);
  });

  it("copies the new key with a visible confirmation", async () => {
    const key = await page.getByTestId("new-api-key").inputValue();
    await page.getByRole("button", { name: "Copy" }).click();
    await page.getByText("Copied to the clipboard.").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    await screenshot(page, "web-intents-api-key-copied");
  });

  it("falls back to selecting the key where the Clipboard API is missing", async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
    await context.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, "clipboard", { get: () => undefined });
    });
    const other = await context.newPage();
    await signIn(other, "/api-keys");
    await other.getByLabel("Key name").fill("Fallback");
    await other.getByRole("button", { name: "Create key" }).click();
    const field = other.getByTestId("new-api-key");
    await field.waitFor();
    await other.getByRole("button", { name: "Copy" }).click();
    const status = other.locator("#copy-secret-status");
    await expect.poll(() => status.textContent()).toMatch(/Copied to the clipboard\.|press Ctrl\+C/);
    // execCommand copied the selection: the whole key is what was selected.
    const selected = await field.evaluate((el) => {
      const input = el as HTMLInputElement;
      return input.value.slice(input.selectionStart ?? 0, input.selectionEnd ?? 0);
    });
    expect(selected).toBe(await field.inputValue());
    await screenshot(other, "web-intents-api-key-copy-fallback");
    await context.close();
  });

  it("refuses a second active key with the same name, naming the field", async () => {
    await page.getByLabel("Key name").fill("  reporting ");
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByText('An active API key named "reporting" already exists').waitFor();
    const field = page.getByLabel("Key name");
    expect(await field.getAttribute("aria-invalid")).toBe("true");
    // Focus is back on the field (it reads out the message), not lost to the page with the disabled button.
    expect(await field.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await page.getByTestId("new-api-key").count()).toBe(0);
    expect(await db.apiKey.count({ where: { accountId, revokedAt: null } })).toBe(2);
    await screenshot(page, "web-intents-api-key-duplicate-name");
  });
});

describe("downgrade dialog", () => {
  it("lists what is lost, what happens to keys and agents, and opens with its data loaded", async () => {
    for (const name of ["Reception", "Sales", "Support"]) {
      await db.agent.create({ data: { accountId, name } });
    }
    await page.goto(`${stack.baseUrl}/packages`);
    await page.getByRole("button", { name: "Downgrade to Starter" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    // Everything is there the moment it opens: nothing arrives later to move the buttons.
    expect(await dialog.getByTestId("downgrade-agents").count()).toBe(1);
    expect(await dialog.getByTestId("downgrade-api-keys").count()).toBe(1);
    const before = await dialog.boundingBox();
    const losses = await dialog.getByTestId("downgrade-losses").locator("li").allTextContents();
    expect(losses).toEqual([
      "Analytics",
      "API access",
      "Call minutes: 10,000 a month → 1,000",
      "Active agents: 25 → 1",
      "Calls beyond the included minutes (billed at $0.02/minute): they stop at the limit instead",
    ]);
    expect(await dialog.getByTestId("downgrade-api-keys").textContent()).toMatch(
      /^Your 2 API keys stop working on .+ \(requests get 403\)\. They are not deleted/,
    );
    expect(await dialog.getByTestId("downgrade-agents").textContent()).toMatch(
      /Starter allows 1 agent and 3 are active\. Choose which stay active; the others are deactivated on /,
    );
    await page.waitForTimeout(500);
    expect(await dialog.boundingBox()).toEqual(before);
    await screenshot(page, "web-intents-downgrade-dialog");
    await dialog.getByRole("button", { name: "Keep my package" }).click();
  });
});

describe("cancel subscription", () => {
  it("cancels once for a double click on the confirmation, and shows the success", async () => {
    const sent = recordKeys(page, "subscription.cancel");
    await page.goto(`${stack.baseUrl}/billing`);
    await page.getByRole("button", { name: "Cancel subscription" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Cancel subscription" }).dblclick();
    const cancellation = page.getByTestId("cancellation");
    await cancellation.waitFor();
    expect(await cancellation.textContent()).toMatch(/you keep access until/);
    expect(await page.getByText("Another change to this subscription is in progress").count()).toBe(0);
    expect(await page.getByRole("alert").count()).toBe(0);
    expect(sent).toHaveLength(1);
    const row = await db.subscription.findFirstOrThrow({ where: { accountId } });
    expect(row.cancelAtPeriodEnd).toBe(true);
    await screenshot(page, "web-intents-cancel-double-click");
  });
});
