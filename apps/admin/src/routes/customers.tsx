import { EmptyState, ErrorState, Field, SelectField, Spinner } from "@minutely/ui";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import {
  linkClass,
  OffsetPager,
  PageHeader,
  SubscriptionStatusBadge,
  TableBox,
  td,
  th,
  theadRow,
  UsageBar,
  useUrlSearchTerm,
} from "../components/ui-bits.tsx";
import { useDocumentTitle } from "../lib/document-title.ts";
import { formatAmount, formatDate, formatNumber } from "../lib/format.ts";
import { CUSTOMER_STATUS_OPTIONS, type CustomerStatusOption, type CustomersSearch } from "../lib/search.ts";
import { messageOf, trpc } from "../lib/trpc.ts";

export const CUSTOMERS_PAGE_SIZE = 25;

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
  // Typing searches from the first page; the URL keeps the term.
  const [term, setTerm] = useUrlSearchTerm(search.q ?? "", (q) =>
    onSearch({ ...search, q: q || undefined, page: undefined }),
  );

  const list = useQuery({
    ...trpc.customers.list.queryOptions({
      search: search.q || undefined,
      status,
      page,
      pageSize: CUSTOMERS_PAGE_SIZE,
    }),
    placeholderData: keepPreviousData,
  });

  return (
    <div className="flex flex-col gap-4">
      <PageHeader
        title="Customers"
        description="Every account, newest first. Search by account name, any user's email, or an exact account, Stripe customer (cus_…) or subscription (sub_…) id."
      />
      <search className="grid gap-3 sm:grid-cols-[minmax(0,1fr)_16rem]">
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
      </search>

      {list.isPending ? (
        <Spinner label="Loading customers" />
      ) : list.isError ? (
        <ErrorState error={{ message: messageOf(list.error) }} onRetry={() => list.refetch()} />
      ) : list.data.items.length === 0 ? (
        <EmptyState title={search.q || status !== "all" ? "No customers match" : "No customers yet"}>
          {search.q || status !== "all" ? (
            <p>Try another search or status.</p>
          ) : (
            <p>Accounts appear here as customers sign up.</p>
          )}
        </EmptyState>
      ) : (
        <>
          <TableBox className={list.isPlaceholderData ? "opacity-60 transition-opacity" : undefined}>
            <table className="w-full min-w-[56rem] text-left text-sm" aria-busy={list.isFetching}>
              <caption className="sr-only">Customers, newest first</caption>
              <thead className={theadRow}>
                <tr>
                  <th scope="col" className={`${th} sticky left-0 z-10 bg-slate-50`}>
                    Account
                  </th>
                  <th scope="col" className={th}>
                    Owner
                  </th>
                  <th scope="col" className={th}>
                    Package
                  </th>
                  <th scope="col" className={th}>
                    Status
                  </th>
                  <th scope="col" className={th}>
                    Usage this period
                  </th>
                  <th scope="col" className={`${th} text-right`}>
                    MRR
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((c) => (
                  <tr key={c.accountId} data-account={c.name} className="border-t border-slate-200">
                    <th scope="row" className={`${td} text-left font-normal`}>
                      <Link
                        to="/customers/$accountId"
                        params={{ accountId: c.accountId }}
                        className={linkClass}
                      >
                        {c.name}
                      </Link>
                      <div className="text-xs text-slate-500">Since {formatDate(c.createdAt)}</div>
                    </th>
                    <td className={`${td} break-all`}>{c.ownerEmail ?? "—"}</td>
                    <td className={td}>{c.planName ?? "—"}</td>
                    <td className={td}>
                      <div className="flex flex-col items-start gap-1">
                        <SubscriptionStatusBadge status={c.status} />
                        {c.cancelAtPeriodEnd ? (
                          <span className="text-xs text-slate-500">Cancels at period end</span>
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
                    <td className={`${td} text-right whitespace-nowrap tabular-nums`}>
                      {c.mrr ? (
                        formatAmount(c.mrr.amount, c.mrr.currency)
                      ) : (
                        <span className="text-slate-400">—</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableBox>
          <OffsetPager
            page={list.data.page}
            pageSize={CUSTOMERS_PAGE_SIZE}
            total={list.data.total}
            busy={list.isFetching}
            noun={{ one: "customer", other: "customers" }}
            onPage={(next) => onSearch({ ...search, page: next === 1 ? undefined : next })}
          />
        </>
      )}
    </div>
  );
}
