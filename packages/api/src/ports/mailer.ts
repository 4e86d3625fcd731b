import type { Database } from "@minutely/db";
import type { Clock } from "@minutely/domain";

export interface MailInput {
  to: string;
  subject: string;
  text: string;
  /** The same logical message (a retried job, say) is stored and sent once. */
  dedupeKey: string;
}

/** Sends email. Production: SMTP. Development and tests: the outbox table is the delivery. */
export interface Mailer {
  send(message: MailInput): Promise<void>;
}

/** Records mail in the `mail_message` outbox (readable by admins); sending is done when it is stored. */
export class OutboxMailer implements Mailer {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async send(message: MailInput): Promise<void> {
    // INSERT … ON CONFLICT DO NOTHING: atomic, so concurrent sends of one message store it once and none
    // fails (an upsert is find-then-create and loses that race with a unique-key error).
    await this.db.mailMessage.createMany({
      data: [{ ...message, sentAt: this.clock.now() }],
      skipDuplicates: true,
    });
  }
}
