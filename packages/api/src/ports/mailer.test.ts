import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { describe, expect, it } from "vitest";
import { OutboxMailer } from "./mailer.ts";

const { db } = await testDatabase();

describe("OutboxMailer", () => {
  it("stores a message once when it is sent many times at once (retried jobs racing)", async () => {
    const mailer = new OutboxMailer(db, fixedClock(new Date("2026-11-27T10:00:00Z")));
    for (let round = 0; round < 5; round++) {
      const message = {
        to: "owner@example.com",
        subject: "Your Minutely payment failed",
        text: "We could not charge your card.",
        dedupeKey: `payment-failed-${round}`,
      };
      await Promise.all(Array.from({ length: 8 }, () => mailer.send(message)));
      expect(await db.mailMessage.count({ where: { dedupeKey: message.dedupeKey } })).toBe(1);
    }
  });
});
