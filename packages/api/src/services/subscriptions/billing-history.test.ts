// Invoices of the same second (an upgrade's proration and a renewal on a test clock) keep one order.
import { testDatabase } from "@minutely/db/vitest";
import { describe, expect, it } from "vitest";
import { billingHistory } from "./subscriptions.ts";

const { db } = await testDatabase();

describe("billing history", () => {
  it("orders invoices of the same second by number, the same way on every load", async () => {
    const account = await db.account.create({ data: { name: "Same Second Ltd" } });
    const issuedAt = new Date("2027-01-06T12:00:00Z");
    // Inserted in an order that a random tie-breaker (or none) would show either way round.
    for (const [id, number] of [
      ["in_b", "ABC-0002"],
      ["in_a", "ABC-0001"],
      ["in_c", "ABC-0003"],
      ["in_draft", null],
    ] as const) {
      await db.billingHistory.create({
        data: {
          accountId: account.id,
          stripeInvoiceId: id,
          number,
          status: number ? "paid" : "draft",
          currency: "usd",
          subtotalCents: 100,
          totalCents: 100,
          amountDueCents: 0,
          amountPaidCents: 100,
          issuedAt,
        },
      });
    }
    for (let load = 0; load < 5; load++) {
      expect((await billingHistory({ db }, account.id)).map((i) => i.number)).toEqual([
        "ABC-0003",
        "ABC-0002",
        "ABC-0001",
        null,
      ]);
    }
  });

  it("shows each invoice's description and its lines, leaving out a stored line it cannot read", async () => {
    const account = await db.account.create({ data: { name: "Lines Ltd" } });
    const line = {
      id: "il_1",
      description: "Remaining time on Pro after 6 Dec 2026",
      amountCents: 6100,
      currency: "usd",
      periodStart: "2026-12-06T12:00:00.000Z",
      periodEnd: "2027-01-01T00:00:00.000Z",
      proration: true,
    };
    await db.billingHistory.create({
      data: {
        accountId: account.id,
        stripeInvoiceId: "in_lines",
        number: "LIN-0001",
        status: "paid",
        billingReason: "subscription_update",
        currency: "usd",
        subtotalCents: 6100,
        totalCents: 6100,
        amountDueCents: 6100,
        amountPaidCents: 6100,
        issuedAt: new Date("2026-12-06T12:00:00Z"),
        lines: [line, { ...line, id: "il_bad", amountCents: "61" }, "not a line"],
      },
    });
    const [invoice] = await billingHistory({ db }, account.id);
    expect(invoice).toMatchObject({
      description: "Plan change (prorated)",
      billingReason: "subscription_update",
    });
    expect(invoice?.lines).toEqual([
      {
        ...line,
        periodStart: new Date("2026-12-06T12:00:00Z"),
        periodEnd: new Date("2027-01-01T00:00:00Z"),
        // A line stored before coupons existed: nothing was taken off it.
        discountCents: 0,
      },
    ]);
  });
});
