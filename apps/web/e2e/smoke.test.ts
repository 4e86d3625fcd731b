import { screenshot, testBrowser, testStack, userWithAccount } from "@minutely/testing";
import { describe, expect, it } from "vitest";

const stack = await testStack({ spas: { web: true } });
const browser = await testBrowser();

describe("customer app smoke test", () => {
  it("sends a signed-out visitor to sign-in, signs up, and shows packages read through tRPC from the database", async () => {
    // Change a package in the database so the page can only show it by really reading it.
    await stack.database.db.subscriptionPlan.update({
      where: { name: "Pro" },
      data: { description: "Smoke-test marker from the database" },
    });
    const page = await browser.newPage();
    const trpcCalls: string[] = [];
    page.on("request", (request) => {
      if (request.url().includes("/trpc/")) trpcCalls.push(request.url());
    });

    await page.goto(`${stack.baseUrl}/packages`);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/sign-in");

    await page.getByRole("link", { name: "Create an account" }).click();
    await page.getByLabel("Name").fill("Sam Smoke");
    await page.getByLabel("Email").fill("sam@example.com");
    await page.getByLabel("Password").fill("correct horse battery");
    await page.getByRole("button", { name: "Create account" }).click();

    const pro = page.getByTestId("package-Pro");
    await pro.waitFor();
    expect(new URL(page.url()).pathname).toBe("/packages");
    expect(await pro.textContent()).toContain("Smoke-test marker from the database");
    expect(await pro.textContent()).toContain("$99.00");
    expect(await page.getByTestId("package-Starter").textContent()).toContain("1,000 call minutes");
    expect(await pro.getByText("Recommended").count()).toBe(1);
    expect(trpcCalls.some((url) => url.includes("catalog.selection"))).toBe(true);
    await screenshot(page, "web-smoke-packages");

    const user = await userWithAccount(stack.database.db, { email: "sam@example.com" });
    expect(user.account?.name).toBe("Sam Smoke");
    expect(user.memberships.map((m) => m.role)).toEqual(["owner"]);
  });
});
