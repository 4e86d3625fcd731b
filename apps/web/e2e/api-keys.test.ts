import { screenshot, testBrowser, testStack } from "@minutely/testing";
import { describe, expect, it } from "vitest";

const stack = await testStack({ spas: { web: true } });
const browser = await testBrowser();

describe("API keys in the customer app", () => {
  it("creates a key shown once, which works on the REST API until revoked; the docs are served", async () => {
    const user = await stack.createUser({ email: "ent@example.com", password: "enterprise-pass-1" });
    const enterprise = await stack.database.db.subscriptionPlan.findUniqueOrThrow({
      where: { name: "Enterprise" },
    });
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

    const page = await browser.newPage();
    await page.goto(`${stack.baseUrl}/sign-in?redirect=/api-keys`);
    await page.getByLabel("Email").fill("ent@example.com");
    await page.getByLabel("Password").fill("enterprise-pass-1");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "API keys" }).waitFor();
    await page.getByLabel("Key name").fill("Reporting");
    await page.getByRole("button", { name: "Create key" }).click();
    const key = await page.getByTestId("new-api-key").inputValue();
    expect(key).toMatch(/^mk_[0-9a-f]{8}_/);
    await screenshot(page, "web-api-key-created");

    const usage = await fetch(`${stack.baseUrl}/api/v1/usage`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(usage.status).toBe(200);
    expect((await usage.json()).usage.minutes_limit).toBe(10000);

    await page.reload();
    expect(await page.getByTestId("new-api-key").count()).toBe(0);
    await page.getByRole("button", { name: "Revoke Reporting" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Revoke key" }).click();
    await page.getByText("Revoked").waitFor();
    const after = await fetch(`${stack.baseUrl}/api/v1/usage`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(after.status).toBe(401);

    const docs = await browser.newPage();
    await docs.goto(`${stack.baseUrl}/api/docs`);
    await docs.getByText("/api/v1/usage/calls").first().waitFor();
    // Swagger UI, a third-party page (its own contrast and labels): not audited with the apps.
    await screenshot(docs, "api-docs", { axe: false });
  });
});
