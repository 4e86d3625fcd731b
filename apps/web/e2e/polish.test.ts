// The customer journey, polished (issue 19): the header on a desktop and on a phone (a disclosure menu),
// the skip link, a title for every page, the usage gauge's text inside its ring, one number format in the
// comparison table, the greeting of a new customer, and what a customer without a package is offered on
// the Agents and Usage pages. The built SPA, the real API, in Chromium.
import { join } from "node:path";
import {
  declaredRoutes,
  SCREENSHOT_DIR,
  screenshot,
  testBrowser,
  testStack,
  userWithAccount,
} from "@minutely/testing";
import type { Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";

const stack = await testStack({ spas: { web: true } });
const browser = await testBrowser();
const PASSWORD = "correct horse battery";
const DAY = 24 * 60 * 60 * 1000;
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } as const;
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

/** What the screen shows (not the whole page): the header and what is above the fold. */
async function screenView(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
}

/** The vertical middle of an element on the page. */
async function middleOf(locator: Locator): Promise<number> {
  const box = await locator.boundingBox();
  if (!box) throw new Error("the element is not rendered");
  return box.y + box.height / 2;
}

/** The id of the focused element, or its text when it has none. */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const element = document.activeElement;
    return element?.id || element?.textContent?.trim() || element?.tagName || "";
  });
}

await proCustomer("alexandra.morgan-operations@example.com", "Alexandra Morgan", 2502);
await proCustomer("over@example.com", "Oscar Over", 7500);

describe("header", () => {
  it("fits on one line at 1280 px (and at 1024 px): the links, the email and Sign out", async () => {
    const page = await browser.newPage(DESKTOP);
    await signIn(page, "alexandra.morgan-operations@example.com");
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    const nav = page.getByRole("navigation", { name: "Main" });
    const items = [
      nav.getByRole("link", { name: "Minutely" }),
      ...[
        "Dashboard",
        "Subscription & Packages",
        "Billing",
        "API keys",
        "Usage",
        "Analytics",
        "Agents",
        "Integration",
        "Team",
      ].map((name) => nav.getByRole("link", { name, exact: true })),
      nav.getByText("alexandra.morgan-operations@example.com"),
      nav.getByRole("button", { name: "Sign out" }),
    ];
    for (const width of [1280, 1024]) {
      await page.setViewportSize({ width, height: 900 });
      const brand = await middleOf(items[0] as Locator);
      for (const item of items.slice(1)) {
        if (width === 1024 && (await item.textContent())?.includes("@")) {
          expect(await item.isVisible(), "the email gives way below 1280 px").toBe(false);
          continue;
        }
        expect(
          Math.abs((await middleOf(item)) - brand),
          `${await item.textContent()} at ${width} px`,
        ).toBeLessThan(4);
      }
      expect(await nav.getByRole("button", { name: "Menu" }).isVisible()).toBe(false);
      expect((await page.locator("header").boundingBox())?.height).toBeLessThan(70);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    await screenshot(page, "web-header-1280");
    await page.close();
  });

  it("on a phone is one line with a Menu button; the menu opens, closes on Escape, outside and on navigation", async () => {
    const page = await browser.newPage(PHONE);
    await signIn(page, "alexandra.morgan-operations@example.com");
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    const nav = page.getByRole("navigation", { name: "Main" });
    const menu = nav.getByRole("button", { name: "Menu" });
    expect(await menu.getAttribute("aria-expanded")).toBe("false");
    const controls = await menu.getAttribute("aria-controls");
    expect(controls).toBeTruthy();
    expect(await page.locator(`#${controls}`).count()).toBe(1);
    expect(await nav.getByRole("link", { name: "Usage" }).isVisible()).toBe(false);
    expect((await page.locator("header").boundingBox())?.height).toBeLessThan(70);
    // The gauge is above the fold.
    const gauge = await page.getByTestId("usage-gauge").boundingBox();
    expect(gauge && gauge.y + gauge.height).toBeLessThanOrEqual(844);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenView(page, "web-header-390-closed");

    // From the keyboard: Enter opens it, focus stays on the button, Tab goes into the menu, Escape closes it
    // and gives focus back to the button.
    await menu.focus();
    await page.keyboard.press("Enter");
    expect(await menu.getAttribute("aria-expanded")).toBe("true");
    expect(await page.locator(`#${controls}`).isVisible()).toBe(true);
    expect(await focused(page)).toBe("Menu");
    await page.keyboard.press("Tab");
    expect(await focused(page)).toBe("Dashboard");
    await page.keyboard.press("Escape");
    expect(await menu.getAttribute("aria-expanded")).toBe("false");
    expect(await page.locator(`#${controls}`).isVisible()).toBe(false);
    expect(await focused(page)).toBe("Menu");

    await menu.click();
    expect(await menu.getAttribute("aria-expanded")).toBe("true");
    for (const name of [
      "Dashboard",
      "Subscription & Packages",
      "Billing",
      "API keys",
      "Usage",
      "Analytics",
    ]) {
      expect(await nav.getByRole("link", { name, exact: true }).isVisible(), name).toBe(true);
    }
    expect(await nav.getByRole("button", { name: "Sign out" }).isVisible()).toBe(true);
    await screenView(page, "web-header-390-open");

    // A tap outside closes it.
    await page.getByRole("heading", { name: "Dashboard" }).click();
    expect(await menu.getAttribute("aria-expanded")).toBe("false");

    // Choosing a page closes it and puts focus on the new page's content.
    await menu.click();
    await nav.getByRole("link", { name: "Usage", exact: true }).click();
    await page.waitForURL(`${stack.baseUrl}/usage`);
    await page.getByRole("heading", { name: "Usage", exact: true }).waitFor();
    expect(await menu.getAttribute("aria-expanded")).toBe("false");
    expect(await nav.getByRole("link", { name: "Usage", exact: true }).isVisible()).toBe(false);
    expect(await focused(page)).toBe("main");

    // Back in the history closes it too.
    await menu.click();
    await page.goBack();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    expect(await menu.getAttribute("aria-expanded")).toBe("false");
    await page.close();
  });
});

describe("skip link", () => {
  it("is the first thing Tab reaches, shows itself, and moves focus to the page's content", async () => {
    const page = await browser.newPage(DESKTOP);
    await signIn(page, "alexandra.morgan-operations@example.com");
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await page.reload();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await page.keyboard.press("Tab");
    expect(await focused(page)).toBe("Skip to content");
    const link = page.getByRole("link", { name: "Skip to content" });
    const box = await link.boundingBox();
    expect(box && box.width > 20 && box.height > 10 && box.y >= 0).toBe(true);
    await screenshot(page, "web-skip-link");
    await page.keyboard.press("Enter");
    expect(await focused(page)).toBe("main");
    expect(new URL(page.url()).pathname).toBe("/");
    // The next Tab is inside the page, past the header.
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.closest("main") !== null)).toBe(true);
    await page.close();
  });
});

describe("routing", () => {
  it("sends a signed-out visitor to sign-in and back, marks the current link, preloads on hover, scrolls to the top", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 400 } });
    // Signed out: sign-in, with the way back (the search included), which replaces the address.
    await page.goto(`${stack.baseUrl}/usage?from=mail`);
    await page.waitForURL((url) => url.pathname === "/sign-in");
    expect(new URL(page.url()).searchParams.get("redirect")).toBe("/usage?from=mail");
    await page.getByLabel("Email").fill("alexandra.morgan-operations@example.com");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${stack.baseUrl}/usage?from=mail`);
    await page.getByRole("heading", { name: "Usage", exact: true }).waitFor();

    // The current page's link is marked; the others are not.
    const nav = page.getByRole("navigation", { name: "Main" });
    expect(await nav.getByRole("link", { name: "Usage", exact: true }).getAttribute("aria-current")).toBe(
      "page",
    );
    expect(
      await nav.getByRole("link", { name: "Dashboard", exact: true }).getAttribute("aria-current"),
    ).toBeNull();

    // Hovering a link loads its page's code before any click.
    const scripts: string[] = [];
    page.on("request", (request) => {
      if (request.resourceType() === "script") scripts.push(new URL(request.url()).pathname);
    });
    const agents = nav.getByRole("link", { name: "Agents", exact: true });
    await agents.hover();
    await expect.poll(() => scripts.some((path) => /\/assets\/agents-[\w-]+\.js$/.test(path))).toBe(true);

    await agents.click();
    await page.getByRole("heading", { name: "Agents", exact: true }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/agents");

    // A navigation from far down a page shows the next one from its top (Usage: its code and data are
    // already here, so it is as tall at once as it will be).
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    expect(await page.evaluate(() => window.scrollY)).toBeGreaterThan(0);
    await nav
      .getByRole("link", { name: "Usage", exact: true })
      .evaluate((link: HTMLAnchorElement) => link.click()); // a click that scrolls nothing itself
    await page.getByRole("heading", { name: "Usage", exact: true }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeGreaterThan(800);
    expect(await page.evaluate(() => window.scrollY)).toBe(0);

    // Back twice: the agents, then the first page with its search.
    await page.goBack();
    await page.getByRole("heading", { name: "Agents", exact: true }).waitFor();
    await page.goBack();
    await page.getByRole("heading", { name: "Usage", exact: true }).waitFor();
    expect(page.url()).toBe(`${stack.baseUrl}/usage?from=mail`);
    await page.close();
  });
});

describe("document titles", () => {
  it("name every page of the app, each differently", async () => {
    const signedOut: Record<string, string> = {
      "/sign-in": "Sign in · Minutely",
      "/sign-up": "Create your account · Minutely",
      "/forgot-password": "Reset your password · Minutely",
      "/reset-password": "Choose a new password · Minutely",
      "/verify-email": "Confirm your email address · Minutely",
      "/accept-invitation": "Join an account · Minutely",
    };
    const signedIn: Record<string, string> = {
      "/": "Dashboard · Minutely",
      "/packages": "Subscription & Packages · Minutely",
      "/billing": "Billing · Minutely",
      "/billing/return": "Payment confirmation · Minutely",
      "/usage": "Usage · Minutely",
      "/agents": "Agents · Minutely",
      "/analytics": "Analytics · Minutely",
      "/api-keys": "API keys · Minutely",
      "/integration": "Integration · Minutely",
      "/account": "Account · Minutely",
      "/team": "Team · Minutely",
    };
    expect(new Set(await declaredRoutes("web"))).toEqual(
      new Set([...Object.keys(signedOut), ...Object.keys(signedIn)]),
    );
    const page = await browser.newPage(DESKTOP);
    for (const [path, title] of Object.entries(signedOut)) {
      await page.goto(`${stack.baseUrl}${path}`);
      await expect.poll(() => page.title(), { message: path }).toBe(title);
    }
    await signIn(page, "alexandra.morgan-operations@example.com");
    for (const [path, title] of Object.entries(signedIn)) {
      const query = path === "/billing/return" ? "?session_id=cs_unknown" : "";
      await page.goto(`${stack.baseUrl}${path}${query}`);
      await expect.poll(() => page.title(), { message: path }).toBe(title);
    }
    await page.goto(`${stack.baseUrl}/no-such-page`);
    await expect.poll(() => page.title()).toBe("Page not found · Minutely");
    const titles = [...Object.values(signedOut), ...Object.values(signedIn), "Page not found · Minutely"];
    expect(new Set(titles).size).toBe(titles.length);
    await page.close();
  });
});

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

describe("a new customer", () => {
  it("compares packages in one number format, is offered a package on Agents and Usage, and is welcomed", async () => {
    const page = await browser.newPage(DESKTOP);
    await page.goto(`${stack.baseUrl}/sign-up`);
    await page.getByLabel("Name").fill("Nora Newcomer");
    await page.getByLabel("Email").fill("nora@example.com");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { name: "Choose your package" }).waitFor();

    // The comparison table writes numbers as the cards do.
    const minutesRow = page.getByRole("row", { name: /Monthly Call Minutes/ });
    expect(await minutesRow.getByRole("cell").allTextContents()).toEqual([
      "1,000 minutes",
      "3,000 minutes",
      "10,000 minutes",
    ]);
    expect(await page.getByTestId("package-Starter").textContent()).toContain("1,000 call minutes");
    expect(await page.getByTestId("package-Enterprise").textContent()).toContain("10,000 call minutes");

    // Agents: the form is there but disabled, with why and where to choose a package.
    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "Agents", exact: true }).click();
    await page.getByRole("heading", { name: "Agents", exact: true }).waitFor();
    expect(await page.getByRole("button", { name: "Add agent" }).isDisabled()).toBe(true);
    expect(await page.getByLabel("Agent name").isDisabled()).toBe(true);
    const why = page.getByTestId("agents-need-package");
    expect(await why.textContent()).toContain("Agents come with a package");
    await screenshot(page, "web-agents-no-package");
    // The server refuses too, with a 4xx that says why.
    const refused = await page.evaluate(async () => {
      const response = await fetch("/trpc/agents.create", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ json: { name: "Front desk" } }),
      });
      return { status: response.status, body: await response.json() };
    });
    expect(refused.status).toBe(412);
    expect(refused.body.error.json.message).toBe("Choose a package before adding agents.");
    await why.getByRole("link", { name: "Choose a package" }).click();
    await page.getByRole("heading", { name: "Choose your package" }).waitFor();

    // Usage: a heading, what the page will show, and the way to a package.
    await nav.getByRole("link", { name: "Usage", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Usage" }).waitFor();
    const noUsage = page.getByTestId("usage-no-package");
    expect(await noUsage.textContent()).toContain("Once you choose a package");
    await screenshot(page, "web-usage-no-package");
    await noUsage.getByRole("link", { name: "Choose a package" }).click();
    await page.getByRole("heading", { name: "Choose your package" }).waitFor();

    // Subscribed, still in the session sign-up opened: a welcome, not a "welcome back".
    const user = await userWithAccount(stack.database.db, { email: "nora@example.com" });
    await subscribe(user.accountId ?? "", "Starter");
    await page.goto(`${stack.baseUrl}/`);
    const greeting = page.getByTestId("dashboard-greeting");
    await greeting.waitFor();
    expect(await greeting.textContent()).toMatch(/^Welcome to Minutely, Nora\. /);
    await screenshot(page, "web-dashboard-welcome");

    // Signed out and in again: a returning customer.
    await nav.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await signIn(page, "nora@example.com");
    await greeting.waitFor();
    expect(await greeting.textContent()).toMatch(/^Welcome back, Nora\. /);
    await page.close();
  });
});
