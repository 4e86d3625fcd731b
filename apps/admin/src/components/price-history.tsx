import { formatMoney, isCurrency } from "@minutely/domain";
import { Badge, ScrollArea } from "@minutely/ui";
import { formatNumber } from "../lib/format.ts";
import type { AdminPackage } from "../lib/trpc.ts";
import { type Column, DataTable } from "./list.tsx";

function formatAmount(amountCents: number, currency: string): string {
  return isCurrency(currency)
    ? formatMoney({ amount: amountCents, currency })
    : `${(amountCents / 100).toFixed(2)} ${currency.toUpperCase()}`;
}

const dateFormat = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "short" });
const COLUMNS: Column[] = [
  { label: "Amount" },
  { label: "Status" },
  { label: "Subscribers", className: "text-right" },
  { label: "Stripe price id" },
  { label: "Created" },
];

/** The Stripe side of a package: its product, and every monthly price it has had with who is on it. */
export function PriceHistory({ pkg, headingId }: { pkg: AdminPackage; headingId?: string }) {
  // The package's own currency's current price (each currency it is priced in has its own).
  const current = pkg.prices.find((price) => price.current && price.currency === pkg.monthlyPrice.currency);
  const pendingChange = current !== undefined && current.amountCents !== pkg.monthlyPrice.amount;
  return (
    <section aria-labelledby={headingId} className="flex flex-col gap-3">
      <h2 id={headingId} className="font-semibold text-slate-900">
        Stripe prices for {pkg.name}
      </h2>
      <dl className="grid gap-x-6 gap-y-1 text-sm sm:grid-cols-[auto_1fr]">
        <dt className="text-slate-500">Stripe product</dt>
        <dd className="font-mono text-xs break-all sm:text-sm" data-testid="stripe-product-id">
          {pkg.stripeProductId ?? "Not created yet"}
        </dd>
        <dt className="text-slate-500">Price for new subscribers</dt>
        <dd className="font-mono text-xs break-all sm:text-sm" data-testid="stripe-price-id">
          {pkg.stripePriceId ?? "None yet"}
        </dd>
      </dl>
      {pendingChange ? (
        <p className="text-sm text-amber-800">
          The package costs {formatMoney(pkg.monthlyPrice)} but its current Stripe price is still{" "}
          {formatAmount(current.amountCents, current.currency)}: retry the sync to create the new price.
        </p>
      ) : null}
      {pkg.prices.length === 0 ? (
        <p className="text-sm text-slate-600">
          No Stripe price yet: the package has not been synced to Stripe. Retry the sync to create one.
        </p>
      ) : (
        <ScrollArea label={`Prices of ${pkg.name}, as a table`} className="relative overflow-x-auto">
          <DataTable
            caption={`Stripe prices for ${pkg.name}, newest first`}
            columns={COLUMNS}
            minWidth="min-w-[32rem]"
            compact="py-1.5"
          >
            {pkg.prices.map((price) => (
              <tr key={price.stripePriceId} className="border-t border-slate-200">
                <td className="py-1.5 pr-4 font-medium whitespace-nowrap">
                  {formatAmount(price.amountCents, price.currency)}/mo
                </td>
                <td className="py-1.5 pr-4">
                  {price.current ? (
                    <Badge tone="success">Current</Badge>
                  ) : (
                    <Badge title="Existing subscribers keep this price until they change plan">
                      Previous
                    </Badge>
                  )}
                </td>
                <td className="py-1.5 pr-4 text-right tabular-nums">{formatNumber(price.subscribers)}</td>
                <td className="py-1.5 pr-4 font-mono text-xs break-all">{price.stripePriceId}</td>
                <td className="py-1.5 whitespace-nowrap text-slate-600">
                  {dateFormat.format(price.createdAt)}
                </td>
              </tr>
            ))}
          </DataTable>
        </ScrollArea>
      )}
      <p className="text-xs text-slate-500">
        A price change adds a new Stripe price for new subscribers; existing subscribers keep their price
        until they change plan.
      </p>
    </section>
  );
}
