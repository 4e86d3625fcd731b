// The customer journey, polished (issue 19): the usage gauge's text inside its ring. The built SPA, the
// real API, in Chromium.
import { join } from "node:path";
import { SCREENSHOT_DIR, screenshot, testBrowser, testStack } from "@minutely/testing";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";

const stack = await testStack({ spas: { web: true } });
const browser = await testBrowser();
const PASSWORD = "correct horse battery";
const DAY = 24 * 60 * 60 * 1000;
const DESKTOP = { viewport: { width: 1280, height: 900 } } as const;

async function signIn(page: Page, email: string): Promise<void> {
  await page.goto(`${stack.baseUrl}/sign-in`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/sign-in"));
}

/** An active subscription whose period contains now, as a row (Stripe is not needed to show it). */
async function subscribe(accountId: string, packageName: string): Promise<void> {
  const db = stack.database.db;
  const plan = await db.subscriptionPlan.findUniqueOrThrow({ where: { name: packageName } });
  const now = Date.now();
  await db.subscription.create({
    data: {
      accountId,
      planId: plan.id,
      stripePriceId: `price_e2e_journey_${accountId}`,
      stripeSubscriptionId: `sub_e2e_journey_${accountId}`,
      status: "active",
      currentPeriodStart: new Date(now - DAY),
      currentPeriodEnd: new Date(now + 29 * DAY),
    },
  });
}

/** Calls adding up to `minutes`, reported through the metering API (each call at most 1,200 minutes). */
async function reportMinutes(accountId: string, minutes: number): Promise<void> {
  const events = [];
  for (let left = minutes, i = 0; left > 0; left -= 1200, i++) {
    events.push({
      call_id: `journey-e2e-${accountId}-${i}`,
      account_id: accountId,
      direction: "outbound",
      started_at: new Date().toISOString(),
      duration_seconds: Math.min(left, 1200) * 60,
    });
  }
  const response = await fetch(`${stack.baseUrl}/api/v1/usage/calls`, {
    method: "POST",
    headers: { authorization: "Bearer dev-metering-token", "content-type": "application/json" },
    body: JSON.stringify({ events }),
  });
  expect(response.status).toBe(200);
  expect((await response.json()).accepted).toBe(events.length);
}

/** A signed-up customer on Pro who used `minutes` of its 3,000 this period. */
async function proCustomer(email: string, name: string, minutes: number): Promise<void> {
  const user = await stack.createUser({ email, password: PASSWORD, name });
  await subscribe(user.accountId, "Pro");
  await reportMinutes(user.accountId, minutes);
}

await proCustomer("alexandra.morgan-operations@example.com", "Alexandra Morgan", 2502);
await proCustomer("over@example.com", "Oscar Over", 7500);

describe("usage gauge", () => {
  for (const [email, label] of [
    ["alexandra.morgan-operations@example.com", "83.4%"],
    ["over@example.com", "250%"],
  ] as const) {
    it(`keeps ${label} inside its ring, clear of it`, async () => {
      const page = await browser.newPage({ ...DESKTOP, deviceScaleFactor: 2 });
      await signIn(page, email);
      const gauge = page.getByTestId("usage-gauge");
      await gauge.waitFor();
      expect(await gauge.locator("div[aria-hidden] > span").first().textContent()).toBe(label);
      // Every corner of the percentage's and of "used"'s boxes lies inside the ring's inner edge.
      const { inner, furthest } = await gauge.evaluate((element) => {
        const ring = element.getBoundingClientRect();
        const cx = ring.left + ring.width / 2;
        const cy = ring.top + ring.height / 2;
        let far = 0;
        for (const span of element.querySelectorAll("div[aria-hidden] > span")) {
          const box = span.getBoundingClientRect();
          for (const x of [box.left, box.right]) {
            for (const y of [box.top, box.bottom]) far = Math.max(far, Math.hypot(x - cx, y - cy));
          }
        }
        // The ring: radius 52 and stroke 12 in a 120-unit view box, so its inside edge is at 46 units.
        return { inner: (ring.width * 46) / 120, furthest: far };
      });
      expect(furthest, `${label}: text reaches ${furthest} px of the ring's ${inner} px`).toBeLessThan(
        inner - 4,
      );
      await gauge.screenshot({ path: join(SCREENSHOT_DIR, `web-gauge-${label.replace("%", "")}.png`) });
      await screenshot(page, `web-dashboard-gauge-${label.replace("%", "")}`);
      await page.close();
    });
  }
});
