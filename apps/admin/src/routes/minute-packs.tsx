// Prepaid minute packs: define (synced to Stripe as a one-time price), list, archive. The server checks every
// field (packages/domain `minute-packs.ts`: ranges, whole numbers, integer minor units) and names the one
// that is wrong; the form shows its message there.
import {
  formatMoney,
  MAX_PACK_MINUTES,
  MAX_PACK_PRICE_CENTS,
  MAX_PACK_VALIDITY_MONTHS,
} from "@minutely/domain";
import {
  Badge,
  Banner,
  Button,
  ConfirmDialog,
  EmptyState,
  ErrorState,
  ErrorSummary,
  Field,
  fieldErrorsOf,
  messageOf,
  Spinner,
  useIntentMutation,
} from "@minutely/ui";
import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { PageHeader, TableBox, td, th, theadRow } from "../components/ui-bits.tsx";
import { useDocumentTitle } from "../lib/document-title.ts";
import { type AdminOutputs, queryClient, trpc } from "../lib/trpc.ts";

type AdminPack = AdminOutputs["packs"]["list"][number];
type Notice = { tone: "success" | "warning" | "danger"; message: string };

const listKey = trpc.packs.list.queryKey();
const invalidate = () => queryClient.invalidateQueries({ queryKey: listKey });

/** "25" or "24.99" -> minor units; anything else is sent as typed so the server names the field. */
function centsOf(value: string): number {
  const trimmed = value.trim();
  return /^\d+(\.\d{1,2})?$/.test(trimmed) ? Math.round(Number(trimmed) * 100) : Number.NaN;
}

function NewPackForm({ onNotice }: { onNotice: (notice: Notice) => void }) {
  const [name, setName] = useState("");
  const [minutes, setMinutes] = useState("");
  const [price, setPrice] = useState("");
  const [currency, setCurrency] = useState("usd");
  const [validity, setValidity] = useState("12");
  const create = useIntentMutation(
    trpc.packs.create.mutationOptions({
      onSuccess: async ({ pack, syncError }) => {
        onNotice(
          syncError
            ? { tone: "warning", message: `${pack.name} is saved, but Stripe was not updated: ${syncError}` }
            : {
                tone: "success",
                message: `${pack.name} is created: ${pack.minutes.toLocaleString("en-US")} minutes for ${formatMoney({ amount: pack.priceCents, currency: pack.currency })}.`,
              },
        );
        setName("");
        setMinutes("");
        setPrice("");
        await invalidate();
      },
    }),
  );
  const errors = create.isError ? fieldErrorsOf(create.error) : {};
  const problems = [
    ["name", "pack-name", "Name"],
    ["minutes", "pack-minutes", "Minutes"],
    ["priceCents", "pack-price", "Price"],
    ["currency", "pack-currency", "Currency"],
    ["validityMonths", "pack-validity", "Valid for (months)"],
  ].flatMap(([field, id, label]) => {
    const message = errors[field ?? ""];
    return message ? [{ id: id ?? "", label: label ?? "", message }] : [];
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({
      name,
      minutes: minutes.trim() === "" ? Number.NaN : Number(minutes),
      priceCents: centsOf(price),
      currency: currency as "usd",
      validityMonths: validity.trim() === "" ? Number.NaN : Number(validity),
    });
  };
  return (
    <form
      onSubmit={submit}
      noValidate
      aria-labelledby="new-pack-heading"
      className="space-y-4 rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200"
    >
      <h2 id="new-pack-heading" className="text-lg font-semibold">
        New minute pack
      </h2>
      <ErrorSummary problems={problems} />
      {create.isError && problems.length === 0 ? (
        <Banner tone="danger">{messageOf(create.error)}</Banner>
      ) : null}
      <div className="grid gap-4 md:grid-cols-5">
        <Field
          id="pack-name"
          label="Name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={errors.name}
        />
        <Field
          id="pack-minutes"
          label="Minutes"
          inputMode="numeric"
          value={minutes}
          onChange={(e) => setMinutes(e.target.value)}
          error={errors.minutes}
          hint={`1–${MAX_PACK_MINUTES.toLocaleString("en-US")}`}
        />
        <Field
          id="pack-price"
          label="Price"
          inputMode="decimal"
          value={price}
          onChange={(e) => setPrice(e.target.value)}
          error={errors.priceCents}
          hint={`In major units, e.g. 25.00 (at most ${(MAX_PACK_PRICE_CENTS / 100).toLocaleString("en-US")})`}
        />
        <div className="flex flex-col gap-1">
          <label htmlFor="pack-currency" className="text-sm font-medium text-slate-700">
            Currency
          </label>
          <select
            id="pack-currency"
            className="rounded-md border border-slate-300 px-3 py-2 text-sm"
            value={currency}
            onChange={(e) => setCurrency(e.target.value)}
          >
            <option value="usd">USD</option>
            <option value="eur">EUR</option>
            <option value="gbp">GBP</option>
          </select>
        </div>
        <Field
          id="pack-validity"
          label="Valid for (months)"
          inputMode="numeric"
          value={validity}
          onChange={(e) => setValidity(e.target.value)}
          error={errors.validityMonths}
          hint={`1–${MAX_PACK_VALIDITY_MONTHS}`}
        />
      </div>
      <Button type="submit" disabled={create.isPending}>
        Create pack
      </Button>
    </form>
  );
}

export function MinutePacksPage() {
  useDocumentTitle("Minute packs");
  const packs = useQuery(trpc.packs.list.queryOptions());
  const [notice, setNotice] = useState<Notice | null>(null);
  const [archiveTarget, setArchiveTarget] = useState<AdminPack | null>(null);
  const archive = useIntentMutation(
    trpc.packs.archive.mutationOptions({
      onSuccess: async ({ pack }) => {
        setArchiveTarget(null);
        setNotice({
          tone: "success",
          message: `${pack.name} is archived: no new purchases. Packs bought keep their minutes until they expire.`,
        });
        await invalidate();
      },
    }),
  );
  const sync = useIntentMutation(trpc.packs.sync.mutationOptions({ onSettled: () => invalidate() }));
  return (
    <div className="flex flex-col gap-6">
      <PageHeader
        title="Minute packs"
        description="Prepaid minutes customers buy once (Checkout or their saved card). Pack minutes are used after a package's included minutes and before overage or the hard cap, the pack expiring first used first. Archiving stops new purchases."
      />
      {notice ? <Banner tone={notice.tone}>{notice.message}</Banner> : null}
      {sync.isError ? <Banner tone="danger">{messageOf(sync.error)}</Banner> : null}
      <NewPackForm onNotice={setNotice} />
      {packs.isPending ? <Spinner label="Loading minute packs" /> : null}
      {packs.isError ? (
        <ErrorState error={{ message: messageOf(packs.error) }} onRetry={() => packs.refetch()} />
      ) : null}
      {packs.data && packs.data.length === 0 ? <EmptyState title="No minute packs yet" /> : null}
      {packs.data && packs.data.length > 0 ? (
        <TableBox label="Minute packs table">
          <table className="w-full text-sm" aria-label="Minute packs">
            <thead>
              <tr className={theadRow}>
                <th className={th}>Pack</th>
                <th className={th}>Minutes</th>
                <th className={th}>Price</th>
                <th className={th}>Valid for</th>
                <th className={th}>Status</th>
                <th className={th}>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {packs.data.map((p) => (
                <tr key={p.id} className="border-t border-slate-100">
                  <td className={td}>{p.name}</td>
                  <td className={td}>{p.minutes.toLocaleString("en-US")}</td>
                  <td className={td}>{formatMoney({ amount: p.priceCents, currency: p.currency })}</td>
                  <td className={td}>{p.validityMonths} months</td>
                  <td className={td}>
                    {p.active ? <Badge tone="success">Offered</Badge> : <Badge>Archived</Badge>}{" "}
                    {p.synced ? null : <Badge tone="warning">Not in Stripe yet</Badge>}
                  </td>
                  <td className={td}>
                    <div className="flex gap-2">
                      {p.synced ? null : (
                        <Button variant="secondary" onClick={() => sync.mutate({ id: p.id })}>
                          Retry Stripe sync
                        </Button>
                      )}
                      {p.active ? (
                        <Button variant="secondary" onClick={() => setArchiveTarget(p)}>
                          Archive {p.name}
                        </Button>
                      ) : null}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      ) : null}
      {archiveTarget ? (
        <ConfirmDialog
          open
          title={`Archive ${archiveTarget.name}?`}
          description="Customers can no longer buy it (nor choose it for auto top-up). Packs already bought keep their minutes until they expire."
          confirmLabel="Archive pack"
          pending={archive.isPending}
          onConfirm={() => archive.mutate({ id: archiveTarget.id })}
          onOpenChange={(open) => !open && setArchiveTarget(null)}
        />
      ) : null}
    </div>
  );
}
