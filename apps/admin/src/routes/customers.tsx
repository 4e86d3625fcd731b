import { Badge, EmptyState, Field, Link, SelectField } from "@minutely/ui";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { type Column, DataTable, OffsetPager, QueryList, urlPage } from "../components/list.tsx";
import {
  linkClass,
  PageHeader,
  SubscriptionStatusBadge,
  td,
  UsageBar,
  useUrlSearchTerm,
} from "../components/ui-bits.tsx";
import { useDocumentTitle } from "../lib/document-title.ts";
import { formatAmount, formatDate, formatNumber, pauseText } from "../lib/format.ts";
import {
  CUSTOMER_SPEND_CAP_OPTIONS,
  CUSTOMER_STATUS_OPTIONS,
  type CustomerSpendCapOption,
  type CustomerStatusOption,
  type CustomersSearch,
} from "../lib/search.ts";
import { trpc } from "../lib/trpc.ts";

export const CUSTOMERS_PAGE_SIZE = 25;

const COLUMNS: Column[] = [
  { label: "Account", className: "sticky left-0 z-10 bg-slate-50" },
  { label: "Owner" },
  { label: "Package" },
  { label: "Status" },
  { label: "Usage this period" },
  { label: "Overage budget" },
  { label: "MRR", className: "text-right" },
];

export function CustomersPage({
  search,
  onSearch,
}: {
  search: CustomersSearch;
  onSearch: (next: CustomersSearch) => void;
}) {
  useDocumentTitle("Customers");
  const page = search.page ?? 1;
  const status = search.status ?? "all";
  const cap = search.cap ?? "all";
  // Typing searches from the first page; the URL keeps the term.
  const [term, setTerm] = useUrlSearchTerm(search.q ?? "", (q) =>
    onSearch({ ...search, q: q || undefined, page: undefined }),
  );

  const list = useQuery({
    ...trpc.customers.list.queryOptions({
      search: search.q || undefined,
      status,
      spendCap: cap,
      page,
      pageSize: CUSTOMERS_PAGE_SIZE,
    }),
    placeholderData: keepPreviousData,
  });
  const filtered = Boolean(search.q) || status !== "all" || cap !== "all";

  return (
    <div className="flex flex-col gap-4">
      <PageHeader
        title="Customers"
        description="Every account, newest first. Search by account name, any user's email, or an exact account, Stripe customer (cus_…) or subscription (sub_…) id."
      />
      <search className="grid gap-3 sm:grid-cols-[minmax(0,1fr)_16rem_14rem]">
        <Field
          label="Search customers"
          type="search"
          value={term}
          placeholder="Acme, owner@example.com, cus_…"
          autoComplete="off"
          onChange={(event) => setTerm(event.target.value)}
        />
        <SelectField
          label="Subscription status"
          value={status}
          options={CUSTOMER_STATUS_OPTIONS}
          onChange={(event) =>
            onSearch({
              ...search,
              status: event.target.value === "all" ? undefined : (event.target.value as CustomerStatusOption),
              page: undefined,
            })
          }
        />
        <SelectField
          label="Overage budget"
          value={cap}
          options={CUSTOMER_SPEND_CAP_OPTIONS}
          onChange={(event) =>
            onSearch({
              ...search,
              cap: event.target.value === "all" ? undefined : (event.target.value as CustomerSpendCapOption),
              page: undefined,
            })
          }
        />
      </search>

      <QueryList
        query={list}
        loadingLabel="Loading customers"
        isEmpty={(data) => data.items.length === 0}
        empty={
          <EmptyState title={filtered ? "No customers match" : "No customers yet"}>
            {filtered ? (
              <p>Try another search, status or budget filter.</p>
            ) : (
              <p>Accounts appear here as customers sign up.</p>
            )}
          </EmptyState>
        }
      >
        {(data) => (
          <>
            <DataTable
              caption="Customers, newest first"
              columns={COLUMNS}
              minWidth="min-w-[64rem]"
              busy={list.isFetching}
              boxClassName={list.isPlaceholderData ? "opacity-60 transition-opacity" : undefined}
            >
              {data.items.map((c) => (
                <tr key={c.accountId} data-account={c.name} className="border-t border-slate-200">
                  <th scope="row" className={`${td} text-left font-normal`}>
                    <Link
                      to="/customers/:accountId"
                      params={{ accountId: c.accountId }}
                      className={linkClass}
                    >
                      {c.name}
                    </Link>
                    <div className="text-xs text-slate-500">Since {formatDate(c.createdAt)}</div>
                    {c.deletedAt ? <Badge tone="danger">Deleted {formatDate(c.deletedAt)}</Badge> : null}
                  </th>
                  <td className={`${td} break-all`}>{c.ownerEmail ?? "—"}</td>
                  <td className={td}>{c.planName ?? "—"}</td>
                  <td className={td}>
                    <div className="flex flex-col items-start gap-1">
                      <SubscriptionStatusBadge status={c.status} />
                      {c.cancelAtPeriodEnd ? (
                        <span className="text-xs text-slate-500">Cancels at period end</span>
                      ) : null}
                      {c.pause ? (
                        <span className="text-xs text-amber-800" data-testid="customer-pause">
                          {pauseText(c.pause)}
                        </span>
                      ) : null}
                      {c.trial ? (
                        <span className="text-xs text-slate-500" data-testid="customer-trial">
                          Trial ends {formatDate(c.trial.endsAt)}
                        </span>
                      ) : null}
                    </div>
                  </td>
                  <td className={td}>
                    {c.usage ? (
                      <div>
                        <UsageBar percentage={c.usage.percentage} label={`Minutes used by ${c.name}`} />
                        <div className="text-xs text-slate-500 tabular-nums">
                          {formatNumber(c.usage.minutesUsed)} of {formatNumber(c.usage.minutesLimit)} min
                        </div>
                      </div>
                    ) : (
                      "—"
                    )}
                  </td>
                  <td className={`${td} whitespace-nowrap tabular-nums`}>
                    {c.spendCap ? (
                      <div className="flex flex-col items-start gap-1">
                        {formatAmount(c.spendCap.amountCents, c.spendCap.currency)}
                        {c.spendCap.reached ? (
                          <span className="rounded bg-red-100 px-1.5 py-0.5 text-xs font-medium text-red-800">
                            Capped
                          </span>
                        ) : null}
                      </div>
                    ) : (
                      <span className="text-slate-400">—</span>
                    )}
                  </td>
                  <td className={`${td} text-right whitespace-nowrap tabular-nums`}>
                    {c.mrr ? (
                      formatAmount(c.mrr.amount, c.mrr.currency)
                    ) : (
                      <span className="text-slate-400">—</span>
                    )}
                  </td>
                </tr>
              ))}
            </DataTable>
            <OffsetPager
              page={data.page}
              pageSize={CUSTOMERS_PAGE_SIZE}
              total={data.total}
              busy={list.isFetching}
              noun={{ one: "customer", other: "customers" }}
              onPage={(next) => onSearch({ ...search, page: urlPage(next) })}
            />
          </>
        )}
      </QueryList>
    </div>
  );
}
