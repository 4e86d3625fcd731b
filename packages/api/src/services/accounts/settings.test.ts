import { testDatabase } from "@minutely/db/vitest";
import { stripeEmulatorUrl } from "@minutely/testing";
import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";
import { appRouter } from "../../root.ts";
import { testPorts } from "../../testing.ts";
import { createCallerFactory } from "../../trpc.ts";
import { accountSettings, updateAccountSettings } from "./settings.ts";

const { db } = await testDatabase();
const ports = testPorts(db, { stripeApiBase: stripeEmulatorUrl() });

async function owner(email: string) {
  const account = await db.account.create({ data: { name: "Acme" } });
  const user = await db.user.create({
    data: { email, name: "Owner", memberships: { create: { accountId: account.id, role: "owner" } } },
  });
  return { account, user };
}

describe("account settings", () => {
  it("renames the company and sets the billing email, on the Stripe customer too (invoices go there)", async () => {
    const { account } = await owner("owner-settings@example.com");
    const { customerId } = await ports.billing.createCustomer({
      accountId: account.id,
      email: "owner-settings@example.com",
      name: "Acme",
      withTestClock: null,
      idempotencyKey: `settings-test-${account.id}`,
    });
    await db.account.update({ where: { id: account.id }, data: { stripeCustomerId: customerId } });
    expect(await accountSettings(ports, account.id)).toEqual({
      name: "Acme",
      billingEmail: null,
      invoicesTo: "owner-settings@example.com",
    });

    const updated = await updateAccountSettings(ports, account.id, {
      name: "Acme Calls Ltd",
      billingEmail: "invoices@acme.example",
    });
    expect(updated).toEqual({
      name: "Acme Calls Ltd",
      billingEmail: "invoices@acme.example",
      invoicesTo: "invoices@acme.example",
    });
    const customer = await ports.stripe.customers.retrieve(customerId);
    expect(customer).toMatchObject({ name: "Acme Calls Ltd", email: "invoices@acme.example" });

    // Back to the owner's address.
    await updateAccountSettings(ports, account.id, { billingEmail: null });
    expect(await ports.stripe.customers.retrieve(customerId)).toMatchObject({
      email: "owner-settings@example.com",
    });
    expect((await accountSettings(ports, account.id)).invoicesTo).toBe("owner-settings@example.com");
  });

  it("refuses bad input with BAD_REQUEST naming the field, and an empty change", async () => {
    const { account, user } = await owner("owner-bad@example.com");
    const caller = createCallerFactory(appRouter)({
      ...ports,
      requestId: "t",
      viewer: { userId: user.id, email: user.email, name: "Owner", role: "user", accountId: account.id },
    });
    const cases: [unknown, string][] = [
      [{ name: "   " }, "name"],
      [{ billingEmail: "not an email" }, "billingEmail"],
      [{ name: 42 }, "name"],
      [{}, "name"],
    ];
    for (const [input, field] of cases) {
      const error = await caller.accountSettings.update(input as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TRPCError);
      expect((error as TRPCError).code).toBe("BAD_REQUEST");
      expect((error as TRPCError).message).toContain(field);
    }
    expect((await db.account.findUniqueOrThrow({ where: { id: account.id } })).name).toBe("Acme");
  });
});
