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
});
