// The admin app as `pnpm dev` wires it (the Vite development server under /admin/, its proxy of /api/ and
// /trpc/ in front of the API) and as `pnpm start` serves it (the API serving the build): every route of
// the router survives a reload, and no request of a page ends in a 404 (the favicon included).
import { freePort } from "@minutely/db/embedded";
import { declaredRoutes, testBrowser, testStack, testViteDevServer } from "@minutely/testing";
import type { Page, Response } from "playwright-core";
import { describe, expect, it } from "vitest";
import { ADMIN, subscribedCustomer } from "./helpers.ts";

const vitePort = await freePort();
const stack = await testStack({
  spas: { admin: true },
  env: { TRUSTED_ORIGINS: `http://127.0.0.1:${vitePort}` },
});
const vite = await testViteDevServer("admin", { apiUrl: stack.baseUrl, port: vitePort });
const browser = await testBrowser();
await stack.createUser({ ...ADMIN, role: "admin" });
const customer = await subscribedCustomer(stack, {
  name: "Reload Ltd",
  email: "reload@example.com",
  plan: "Pro",
});

async function pathsToVisit(): Promise<string[]> {
  const { db } = stack.database;
  const plan = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: "Pro" } });
  let event = await db.stripeEvent.findFirst();
  for (let i = 0; !event && i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    event = await db.stripeEvent.findFirst();
  }
  if (!event) throw new Error("no webhook event arrived");
  const params: Record<string, string> = {
    ":id": plan.id,
    ":accountId": customer.accountId,
    ":eventId": event.id,
  };
  return (await declaredRoutes("admin")).map((path) => path.replace(/:\w+/g, (name) => params[name] ?? name));
}

describe("the admin app under the development wiring and the production build", () => {
  for (const [name, origin] of [
    ["the Vite dev server (pnpm dev)", () => vite.url],
    ["the API serving the build (pnpm start)", () => stack.baseUrl],
  ] as const) {
    it(`survives a reload of every route under ${name}`, async () => {
      const base = `${origin()}/admin`;
      const page: Page = await browser.newPage();
      await page.goto(`${base}/`);
      await page.waitForLoadState("networkidle");
      const failed: string[] = [];
      page.on("response", (response: Response) => {
        if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
      });
      await page.getByRole("heading", { name: "Admin sign in" }).waitFor();
      await expect.poll(() => page.title()).toBe("Sign in · Minutely Admin");
      await page.getByLabel("Email").fill(ADMIN.email);
      await page.getByLabel("Password").fill(ADMIN.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("navigation", { name: "Admin" }).waitFor();
      const paths = await pathsToVisit();
      expect(paths).toContain("/webhooks");
      // Every page names itself in the tab, each differently ("/" is the packages page).
      const titles = new Map<string, string>();
      for (const path of paths) {
        if (path === "/sign-in" || path === "/forbidden") continue; // an admin is sent on from these
        await page.goto(`${base}${path}`);
        const reloaded = await page.reload();
        expect(reloaded?.headers()["content-type"], `reload of ${path}`).toMatch(/^text\/html/);
        await page.getByRole("navigation", { name: "Admin" }).waitFor();
        await page.locator("main h1").first().waitFor();
        await expect.poll(() => page.title(), { message: path }).toMatch(/^.+ · Minutely Admin$/);
        if (path !== "/") titles.set(path, await page.title());
      }
      expect(new Set(titles.values()).size, JSON.stringify([...titles])).toBe(titles.size);
      await page.goto(`${base}/no-such-page`);
      await page.getByRole("heading", { name: "Page not found" }).waitFor();
      await expect.poll(() => page.title()).toBe("Page not found · Minutely Admin");
      const favicon = await page.evaluate(
        () => document.querySelector<HTMLLinkElement>('link[rel="icon"]')?.href,
      );
      expect(favicon).toBe(`${base}/favicon.svg`);
      expect((await fetch(favicon ?? "")).headers.get("content-type")).toMatch(/^image\/svg\+xml/);
      expect(failed).toEqual([]);
      await page.close();
    });
  }
});
