// The customer app as `pnpm dev` wires it: the Vite development server (its own proxy of /api/ and /trpc/)
// in front of the API, which was told the app's address (APP_URL). A new customer pays on the hosted
// Checkout page and comes back to the app, not to the API; every route survives a reload, under the dev
// server and under the API serving the build (as `pnpm start` does); no request of a page ends in a 404.
import { freePort } from "@minutely/db/embedded";
import { declaredRoutes, screenshot, testBrowser, testStack, testViteDevServer } from "@minutely/testing";
import type { Page, Response } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { enterCheckoutAddress } from "./helpers.ts";

const vitePort = await freePort();
const appUrl = `http://127.0.0.1:${vitePort}`;
const stack = await testStack({ spas: { web: true }, env: { APP_URL: appUrl } });
const vite = await testViteDevServer("web", { apiUrl: stack.baseUrl, port: vitePort });
const browser = await testBrowser();

/** Every path of src/routing.ts, with what the visit should show. Parameters filled in below. */
const ROUTES: Record<string, string> = {
  "/sign-in": "Sign in",
  "/sign-up": "Create your account",
  "/": "Dashboard",
  "/analytics": "Analytics",
  "/api-keys": "API keys",
  "/billing": "Billing",
  "/billing/return": "",
  "/usage": "Usage",
  "/agents": "Agents",
  "/integration": "Integration",
  "/packages": "Subscription & Packages",
  "/account": "Account",
  "/team": "Team",
  // Without a token (a link cut short) the page says so.
  "/accept-invitation": "Join an account",
  "/forgot-password": "Reset your password",
  // Without a token (a link cut short) the page says so.
  "/reset-password": "Reset link incomplete",
  "/verify-email": "Confirm your email address",
};

let page: Page;
const failed: string[] = [];

function watch(target: Page) {
  target.on("response", (response: Response) => {
    if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
  });
}

beforeAll(async () => {
  page = await browser.newPage();
  // The dev server discovers dependencies on first use; let that settle before the test counts requests.
  await page.goto(`${vite.url}/sign-up`);
  await page.waitForLoadState("networkidle");
  watch(page);
});

describe("the customer app under the development wiring", () => {
  it("lists every route of the router here", async () => {
    expect(new Set(await declaredRoutes("web"))).toEqual(new Set(Object.keys(ROUTES)));
  });

  it("returns from Checkout to the app with a confirmation, and cancelling says nothing was charged", async () => {
    await page.goto(`${vite.url}/sign-up`);
    await page.getByLabel("Name").fill("Devon Developer");
    await page.getByLabel("Email").fill("devon@example.com");
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Choose your package" }).waitFor();

    await page.getByRole("button", { name: "Choose Starter" }).click();
    await page.waitForURL(/\/checkout\/cs_/);
    await page.locator("#cancel").click();
    await page.waitForURL(`${appUrl}/packages?checkout=cancelled`);
    const cancelled = page.getByRole("status").filter({ hasText: "Checkout cancelled" });
    await cancelled.waitFor();
    expect(await cancelled.textContent()).toContain("Nothing was charged");
    await screenshot(page, "web-dev-checkout-cancelled");

    await page.getByRole("button", { name: "Choose Pro" }).click();
    await page.waitForURL(/\/checkout\/cs_/);
    await page.locator("#card-visa").check();
    await enterCheckoutAddress(page);
    await page.locator("#submit").click();
    await page.waitForURL(new RegExp(`^${appUrl}/billing/return\\?session_id=cs_`));
    await page.getByRole("heading", { name: "You're subscribed to Pro" }).waitFor();
    expect(await page.getByTestId("checkout-confirmation").textContent()).toContain(
      "Payment received: $99.00/month",
    );
    await screenshot(page, "web-dev-checkout-confirmation");
    await page.getByRole("link", { name: "Go to the dashboard" }).click();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    // Live usage's stream (server-sent events) passes Vite's proxy too.
    await page.getByTestId("live-status").getByText("Live").waitFor();
  });

  for (const [name, origin] of [
    ["the Vite dev server (pnpm dev)", () => vite.url],
    ["the API serving the build (pnpm start)", () => stack.baseUrl],
  ] as const) {
    it(`survives a reload of every route under ${name}`, async () => {
      const base = origin();
      // The session cookie belongs to the origin: sign in on this one.
      await page.goto(`${base}/sign-in`);
      await page.getByRole("heading", { name: /^(Sign in|Dashboard)$/ }).waitFor();
      if (await page.getByLabel("Email").count()) {
        await page.getByLabel("Email").fill("devon@example.com");
        await page.getByLabel("Password").fill("correct horse battery");
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.getByRole("heading", { name: "Dashboard" }).waitFor();
      }
      failed.length = 0;
      for (const [path, heading] of Object.entries(ROUTES)) {
        if (path === "/sign-in" || path === "/sign-up") continue; // signed in: they send you on
        const url = `${base}${path === "/billing/return" ? "/billing/return?session_id=cs_unknown" : path}`;
        await page.goto(url);
        const reloaded = await page.reload();
        expect(reloaded?.headers()["content-type"], `reload of ${path}`).toMatch(/^text\/html/);
        if (heading) await page.getByRole("heading", { name: heading, exact: true }).first().waitFor();
        else await page.getByText("No such checkout session.").waitFor();
      }
      await page.goto(`${base}/no-such-page`);
      await page.getByRole("heading", { name: "Page not found" }).waitFor();
      await screenshot(page, `web-not-found-${base === vite.url ? "dev" : "build"}`);
      const favicon = await page.evaluate(
        () => document.querySelector<HTMLLinkElement>('link[rel="icon"]')?.href,
      );
      expect(favicon).toBe(`${base}/favicon.svg`);
      expect((await fetch(favicon ?? "")).headers.get("content-type")).toMatch(/^image\/svg\+xml/);
      // The fake session id above is a deliberate 404 of the tRPC call; nothing else may fail.
      expect(failed.filter((line) => !line.includes("subscription.completeCheckout"))).toEqual([]);
    });
  }
});
