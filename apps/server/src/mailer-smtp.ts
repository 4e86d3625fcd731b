// The production Mailer: every message is first stored in the `mail_message` outbox (deduplicated by its
// dedupeKey, readable by admins), then sent over SMTP, then stamped `sentAt`. Sending again with the same
// dedupeKey (a retried job) sends nothing once `sentAt` is set. Two senders of one message are serialized
// by an advisory lock on its key, so concurrent retries cannot both send. Delivery is at least once: a crash
// between the SMTP server accepting the message and the stamp sends it again on the next attempt, with the
// same Message-ID so mail systems can recognise the duplicate.
import type { Mailer, MailInput } from "@minutely/api";
import { type Database, transactionLock } from "@minutely/db";
import type { Clock } from "@minutely/domain";
import nodemailer from "nodemailer";

export interface SmtpMailerOptions {
  db: Database;
  clock: Clock;
  /** smtp://user:password@host:587 (STARTTLS when offered) or smtps://user:password@host:465 (TLS). */
  url: string;
  /** The From header: billing@example.com or "Minutely <billing@example.com>". */
  from: string;
}

export class SmtpMailer implements Mailer {
  private readonly transport: ReturnType<typeof nodemailer.createTransport>;
  private readonly messageIdDomain: string;

  constructor(private readonly options: SmtpMailerOptions) {
    this.transport = nodemailer.createTransport({
      url: options.url,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
    this.messageIdDomain = /@([^\s>]+)>?\s*$/.exec(options.from)?.[1] ?? "minutely.invalid";
  }

  async send(message: MailInput): Promise<void> {
    const { db, clock } = this.options;
    // Atomic insert-if-absent (an upsert is find-then-create and fails concurrent sends of one message).
    await db.mailMessage.createMany({
      data: [
        {
          to: message.to,
          subject: message.subject,
          text: message.text,
          dedupeKey: message.dedupeKey,
          sentAt: null,
        },
      ],
      skipDuplicates: true,
    });
    await db.$transaction(
      async (tx) => {
        await tx.$executeRaw(transactionLock("mail", message.dedupeKey));
        const row = await tx.mailMessage.findUniqueOrThrow({ where: { dedupeKey: message.dedupeKey } });
        if (row.sentAt) return;
        await this.transport.sendMail({
          from: this.options.from,
          to: row.to,
          subject: row.subject,
          text: row.text,
          messageId: `<${row.id}@${this.messageIdDomain}>`,
        });
        await tx.mailMessage.update({ where: { id: row.id }, data: { sentAt: clock.now() } });
      },
      { maxWait: 10_000, timeout: 60_000 },
    );
  }

  /** Closes the SMTP connections (on shutdown). */
  close(): void {
    this.transport.close();
  }
}
