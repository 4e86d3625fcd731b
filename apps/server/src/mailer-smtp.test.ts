import { testDatabase } from "@minutely/db/vitest";
import { fixedClock } from "@minutely/domain";
import { afterAll, describe, expect, it } from "vitest";
import { SmtpMailer } from "./mailer-smtp.ts";
import { startSmtpSink } from "./testing-smtp.ts";

const { db } = await testDatabase();
const sink = await startSmtpSink();
const clock = fixedClock(new Date("2026-11-27T12:00:00Z"));
const mailer = new SmtpMailer({ db, clock, url: sink.url, from: "Minutely <billing@minutely.example>" });
afterAll(async () => {
  mailer.close();
  await sink.close();
});

function sentWith(dedupeKey: string) {
  return sink.messages.filter((m) => m.body.includes(dedupeKey));
}

describe("SmtpMailer", () => {
  it("stores the message in the outbox, sends it over SMTP and stamps sentAt", async () => {
    await mailer.send({
      to: "owner@example.com",
      subject: "Minutely: 80% of your call minutes used",
      text: "You used 800 of 1000 minutes. first-message",
      dedupeKey: "first-message",
    });
    const row = await db.mailMessage.findUniqueOrThrow({ where: { dedupeKey: "first-message" } });
    expect(row.sentAt).toEqual(clock.now());
    const [mail, ...others] = sentWith("first-message");
    expect(others).toHaveLength(0);
    expect(mail?.from).toBe("billing@minutely.example");
    expect(mail?.to).toEqual(["owner@example.com"]);
    expect(mail?.headers.subject).toBe("Minutely: 80% of your call minutes used");
    expect(mail?.headers.from).toBe("Minutely <billing@minutely.example>");
    expect(mail?.headers["message-id"]).toBe(`<${row.id}@minutely.example>`);
  });

  it("sends a message once, however often (and however concurrently) it is sent again", async () => {
    const message = {
      to: "owner@example.com",
      subject: "Your Minutely payment failed",
      text: "We could not charge your card. twice-message",
      dedupeKey: "twice-message",
    };
    await Promise.all(Array.from({ length: 6 }, () => mailer.send(message)));
    await mailer.send(message);
    expect(sentWith("twice-message")).toHaveLength(1);
    expect(await db.mailMessage.count({ where: { dedupeKey: "twice-message" } })).toBe(1);
  });

  it("keeps a refused message unsent in the outbox and sends it on the retry", async () => {
    const message = {
      to: "owner@example.com",
      subject: "Minutely: call minutes used up, outbound calls paused",
      text: "refused-message",
      dedupeKey: "refused-message",
    };
    sink.refuseNext(1);
    await expect(mailer.send(message)).rejects.toThrow(/451/);
    const stored = await db.mailMessage.findUniqueOrThrow({ where: { dedupeKey: "refused-message" } });
    expect(stored.sentAt).toBeNull();
    expect(sentWith("refused-message")).toHaveLength(0);

    await mailer.send(message);
    expect(sentWith("refused-message")).toHaveLength(1);
    const sent = await db.mailMessage.findUniqueOrThrow({ where: { dedupeKey: "refused-message" } });
    expect(sent.sentAt).not.toBeNull();
  });
});
