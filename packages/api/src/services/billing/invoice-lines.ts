// An invoice's lines as BillingHistory keeps them (the JSON column `lines`), and as the customer app and
// the REST APIs show them. Written from Stripe's invoice on every sync; read back defensively: a stored
// line that is not of this shape is left out rather than failing the whole billing history.
import type { ProviderInvoiceLine } from "../../ports/billing.ts";

export interface InvoiceLineView {
  id: string;
  /** Stripe's words for the line ("Remaining time on Pro after 27 Nov 2026"); null when it has none. */
  description: string | null;
  /** Minor units; negative for a credit. */
  amountCents: number;
  currency: string;
  periodStart: Date | null;
  periodEnd: Date | null;
  proration: boolean;
  /** What coupons took off this line (0 or positive); the line's net is amountCents - discountCents. */
  discountCents: number;
}

// A type, not an interface: Prisma's JSON input needs the implicit index signature of a type alias.
type StoredLine = {
  id: string;
  description: string | null;
  amountCents: number;
  currency: string;
  periodStart: string | null;
  periodEnd: string | null;
  proration: boolean;
  discountCents: number;
};

export function storedLines(lines: readonly ProviderInvoiceLine[]): StoredLine[] {
  return lines.map((line) => ({
    id: line.id,
    description: line.description,
    amountCents: line.amount,
    currency: line.currency,
    periodStart: line.periodStart?.toISOString() ?? null,
    periodEnd: line.periodEnd?.toISOString() ?? null,
    proration: line.proration,
    discountCents: line.discountCents,
  }));
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const dateOrNull = (value: unknown): Date | null | undefined => {
  if (value === null) return null;
  if (typeof value !== "string") return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
};

export function invoiceLinesOf(stored: unknown): InvoiceLineView[] {
  if (!Array.isArray(stored)) return [];
  const lines: InvoiceLineView[] = [];
  for (const line of stored) {
    if (!isRecord(line)) continue;
    const { id, description, amountCents, currency, proration } = line;
    const periodStart = dateOrNull(line.periodStart);
    const periodEnd = dateOrNull(line.periodEnd);
    if (
      typeof id !== "string" ||
      (description !== null && typeof description !== "string") ||
      typeof amountCents !== "number" ||
      !Number.isSafeInteger(amountCents) ||
      typeof currency !== "string" ||
      typeof proration !== "boolean" ||
      periodStart === undefined ||
      periodEnd === undefined
    ) {
      continue;
    }
    // Lines stored before coupons existed have no discountCents: nothing was taken off them.
    const discountCents = line.discountCents ?? 0;
    if (typeof discountCents !== "number" || !Number.isSafeInteger(discountCents)) continue;
    lines.push({ id, description, amountCents, currency, periodStart, periodEnd, proration, discountCents });
  }
  return lines;
}
