import { type CreditNoteInput, issueCreditNote, voidCreditNote } from "../billing/creditNotes.ts";
import { type EmulatorCore, paginate } from "../core.ts";
import { missingParam, resourceMissing } from "../errors.ts";
import type { Router } from "../http/router.ts";
import { buildCreditNote, buildCreditNoteLine } from "../objects/creditNotes.ts";
import type { Params } from "../params.ts";
import type { CreditNoteRec } from "../payments-state.ts";

const REASONS = ["duplicate", "fraudulent", "order_change", "product_unsatisfactory"] as const;

function creditNote(core: EmulatorCore, id: string): CreditNoteRec {
  const rec = core.state.creditNotes[id];
  if (!rec) throw resourceMissing("credit_note", id, "id");
  return rec;
}

function input(p: Params): CreditNoteInput {
  const invoice = p.str("invoice");
  if (!invoice) throw missingParam("invoice");
  return {
    invoice,
    lines: p.list("lines")?.map((line, index) => {
      const type = line.oneOf("type", ["invoice_line_item", "custom_line_item"] as const);
      if (!type) throw missingParam(`lines[${index}][type]`);
      return {
        type,
        invoice_line_item: line.str("invoice_line_item") ?? null,
        amount: line.int("amount"),
        quantity: line.int("quantity"),
        unit_amount: line.int("unit_amount"),
        description: line.str("description") || null,
      };
    }),
    amount: p.int("amount"),
    credit_amount: p.int("credit_amount"),
    refund_amount: p.int("refund_amount"),
    out_of_band_amount: p.int("out_of_band_amount"),
    reason: p.oneOf("reason", REASONS) ?? null,
    memo: p.str("memo") || null,
    metadata: p.metadata("metadata", {}),
  };
}

export function registerCreditNotes(router: Router): void {
  router.post("/v1/credit_notes", ({ core, p }) => buildCreditNote(core, issueCreditNote(core, input(p))));
  router.get("/v1/credit_notes/preview", ({ core, p }) =>
    core.dryRun(() => buildCreditNote(core, issueCreditNote(core, input(p)))),
  );
  router.get("/v1/credit_notes", ({ core, p, url }) => {
    const invoice = p.str("invoice");
    const customer = p.str("customer");
    const items = Object.values(core.state.creditNotes).filter(
      (cn) =>
        (invoice === undefined || cn.invoice === invoice) &&
        (customer === undefined || cn.customer === customer),
    );
    return paginate(items, p, url, (cn) => buildCreditNote(core, cn));
  });
  router.get("/v1/credit_notes/:id", ({ core, path }) =>
    buildCreditNote(core, creditNote(core, path.id ?? "")),
  );
  router.post("/v1/credit_notes/:id", ({ core, p, path }) => {
    const rec = creditNote(core, path.id ?? "");
    const before = buildCreditNote(core, rec);
    if (p.has("memo")) rec.memo = p.str("memo") || null;
    rec.metadata = p.metadata("metadata", rec.metadata);
    core.emitUpdate("credit_note.updated", before, buildCreditNote(core, rec));
    return buildCreditNote(core, rec);
  });
  router.post("/v1/credit_notes/:id/void", ({ core, path }) => {
    const rec = creditNote(core, path.id ?? "");
    voidCreditNote(core, rec);
    return buildCreditNote(core, rec);
  });
  router.get("/v1/credit_notes/:id/lines", ({ core, p, path, url }) => {
    const rec = creditNote(core, path.id ?? "");
    const items = rec.lines.map((line, index) => ({ ...line, created: 0, seq: -index }));
    return paginate(items, p, url, (line) => buildCreditNoteLine(core, line));
  });
}
