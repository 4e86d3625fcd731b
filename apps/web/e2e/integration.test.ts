// The Integration page (issue 19, item 11) in Chromium against the built SPA and the real API: the account
// and agent ids the calling platform reports usage with, copy buttons that say what they did (with and
// without a clipboard), and the example request, which the real metering route accepts as shown.
import { screenshot, testBrowser, testStack } from "@minutely/testing";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, postUsage, signIn, subscribeWithCard } from "./helpers.ts";

const stack = await testStack({ spas: { web: true } });
const browser = await testBrowser();
const db = stack.database.db;
const EMAIL = "ivo@example.com";
let accountId: string;
let context: BrowserContext;
let page: Page;

/** The JSON between the single quotes after -d, as a shell passes it. */
function curlBody(curl: string): string {
  const match = /-d '((?:[^']|'\\'')*)'$/.exec(curl.trim());
  if (!match?.[1]) throw new Error(`no body in ${curl}`);
  return match[1].replaceAll("'\\''", "'");
}

beforeAll(async () => {
  const user = await stack.createUser({ email: EMAIL, password: PASSWORD, name: "Ivo Integrator" });
  accountId = user.accountId;
  await subscribeWithCard(stack, user.cookie, "Pro");
  context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    permissions: ["clipboard-read", "clipboard-write"],
  });
  page = await context.newPage();
  await signIn(stack, page, EMAIL);
  // An agent, made on the Agents page as a customer does.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Agents" }).click();
  await page.getByLabel("Agent name").fill("Reception");
  await page.getByRole("button", { name: "Add agent" }).click();
  await page.getByTestId("agent-Reception").waitFor();
});

afterAll(() => context.close());

describe("the Integration page", () => {
  it("shows the account id and the agents' ids, each with a Copy button that says Copied", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Integration" }).click();
    await page.getByRole("heading", { name: "Integration", exact: true }).waitFor();
    const agent = await db.agent.findFirstOrThrow({ where: { accountId } });
    expect(await page.locator("#account-id").textContent()).toBe(accountId);
    const agentRow = page.getByTestId("integration-agent-Reception");
    expect(await agentRow.locator("code").textContent()).toBe(agent.id);

    await page.getByRole("button", { name: "Copy the account id" }).click();
    const copied = page.getByRole("status").filter({ hasText: "Copied" });
    await copied.waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(accountId);
    await agentRow.getByRole("button", { name: "Copy the id of agent Reception" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(agent.id);
    await agentRow.getByRole("status").filter({ hasText: "Copied" }).waitFor();
  });

  it("shows a request the metering route accepts as it is: the real account, agent and a fresh call id", async () => {
    const agent = await db.agent.findFirstOrThrow({ where: { accountId } });
    const shown = (await page.getByTestId("metering-example").textContent()) ?? "";
    expect(shown).toContain(`curl -sS -X POST '${stack.baseUrl}/api/v1/usage/calls'`);
    expect(shown).toContain('-H "Authorization: Bearer $METERING_API_TOKEN"');
    expect(shown).not.toContain("dev-metering-token");
    await page.getByRole("button", { name: "Copy the example request" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(shown);
    await screenshot(page, "web-integration");

    const body = JSON.parse(curlBody(shown));
    expect(body.events[0]).toMatchObject({
      account_id: accountId,
      agent_id: agent.id,
      direction: "outbound",
    });
    const { status, json } = await postUsage(stack, curlBody(shown));
    expect(status).toBe(200);
    expect(json).toMatchObject({
      accepted: 1,
      rejected: 0,
      results: [{ call_id: body.events[0].call_id, status: "accepted", billable_minutes: 2 }],
    });
    // Sent again it is a duplicate; a new call id makes another example.
    expect((await postUsage(stack, curlBody(shown))).json).toMatchObject({ duplicates: 1 });
    await page.getByRole("button", { name: "New call id" }).click();
    await expect
      .poll(
        async () =>
          JSON.parse(curlBody((await page.getByTestId("metering-example").textContent()) ?? "")).events[0]
            .call_id,
      )
      .not.toBe(body.events[0].call_id);
  });

  it("copies without the clipboard API too, and selects the text when the browser lets nothing be copied", async () => {
    const bare = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // No navigator.clipboard (an insecure origin has none).
    await bare.addInitScript(() => Object.defineProperty(navigator, "clipboard", { value: undefined }));
    const other = await bare.newPage();
    await signIn(stack, other, EMAIL);
    await other.goto(`${stack.baseUrl}/integration`);
    await other.locator("#account-id").waitFor();
    await other.getByRole("button", { name: "Copy the account id" }).click();
    await other.getByRole("status").filter({ hasText: "Copied" }).waitFor();

    // And a browser that refuses the copy command as well: the id is selected, with the keys to press.
    await other.evaluate(() => {
      document.execCommand = () => false;
    });
    await other.getByRole("button", { name: "Copy the account id" }).click();
    await other.getByRole("status").filter({ hasText: "press Ctrl+C" }).waitFor();
    expect(await other.evaluate(() => window.getSelection()?.toString())).toBe(accountId);
    await screenshot(other, "web-integration-copy-fallback");
    await bare.close();
  });
});
