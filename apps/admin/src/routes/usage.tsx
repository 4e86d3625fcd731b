import { Badge, EmptyState, Link, LiveStatus, SelectField } from "@minutely/ui";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { type Column, DataTable, OffsetPager, QueryList, urlPage } from "../components/list.tsx";
import {
  linkClass,
  PageHeader,
  Section,
  SubscriptionStatusBadge,
  td,
  UsageBar,
} from "../components/ui-bits.tsx";
import { useDocumentTitle } from "../lib/document-title.ts";
import { formatDate, formatDateTime, formatNumber } from "../lib/format.ts";
import type { UsageSearch } from "../lib/search.ts";
import { trpc } from "../lib/trpc.ts";

const NEAR_PAGE_SIZE = 20;
const MAIL_PAGE_SIZE = 10;
const THRESHOLDS = [
  { value: "50", label: "50% or more" },
  { value: "80", label: "80% or more" },
  { value: "90", label: "90% or more" },
  { value: "100", label: "At or over the limit" },
];
const NEAR_COLUMNS: Column[] = [
  { label: "Account" },
  { label: "Package" },
  { label: "Minutes used" },
  { label: "Agents", className: "text-right" },
  { label: "Beyond the limit" },
  { label: "Period ends" },
];

export function UsagePage({
  search,
  onSearch,
}: {
  search: UsageSearch;
  onSearch: (next: UsageSearch) => void;
}) {
  useDocumentTitle("Usage and alerts");
  const me = useQuery({ ...trpc.session.me.queryOptions(), retry: false });
  return (
    <div className="flex flex-col gap-4">
      <PageHeader
        title="Usage and alerts"
        description="Accounts near or over their limits in the current billing period, the most urgent first, and the mail Minutely sent about it."
        actions={<LiveStatus />}
      />
      <NearLimit search={search} onSearch={onSearch} />
      <MailOutbox search={search} onSearch={onSearch} development={me.data?.stripeEmulator ?? false} />
    </div>
  );
}

function NearLimit({ search, onSearch }: { search: UsageSearch; onSearch: (next: UsageSearch) => void }) {
  const min = search.min ?? 80;
  const page = search.page ?? 1;
  const list = useQuery({
    ...trpc.usage.nearLimit.queryOptions({ minPercent: min, page, pageSize: NEAR_PAGE_SIZE }),
    placeholderData: keepPreviousData,
  });
  return (
    <Section
      id="near-limit-heading"
      title="Accounts near or over their limits"
      actions={
        <div className="w-56">
          <SelectField
            label="Minutes used"
            value={String(min)}
            options={
              THRESHOLDS.some((t) => t.value === String(min))
                ? THRESHOLDS
                : [...THRESHOLDS, { value: String(min), label: `${min}% or more` }]
            }
            onChange={(event) => onSearch({ ...search, min: Number(event.target.value), page: undefined })}
          />
        </div>
      }
    >
      <p className="text-sm text-slate-600">
        Accounts whose subscription grants access and that used at least the chosen share of their included
        minutes this period, or that have more active agents than their package allows. Sorted by share of
        minutes used.
      </p>
      <QueryList
        query={list}
        loadingLabel="Loading accounts"
        isEmpty={(data) => data.items.length === 0}
        empty={
          <EmptyState title="No account is near its limits">
            <p>No account has used {min}% of its minutes or has too many agents.</p>
          </EmptyState>
        }
      >
        {(data) => (
          <>
            <DataTable
              caption="Accounts near or over their limits, most urgent first"
              columns={NEAR_COLUMNS}
              minWidth="min-w-[60rem]"
              boxClassName={list.isPlaceholderData ? "opacity-60 shadow-none" : "shadow-none"}
            >
              {data.items.map((a) => (
                <tr key={a.accountId} data-account={a.accountName} className="border-t border-slate-200">
                  <th scope="row" className={`${td} text-left font-normal`}>
                    <Link
                      to="/customers/:accountId"
                      params={{ accountId: a.accountId }}
                      className={linkClass}
                    >
                      {a.accountName}
                    </Link>
                    <div className="text-xs break-all text-slate-500">{a.ownerEmail ?? "no owner"}</div>
                  </th>
                  <td className={td}>
                    <div className="flex flex-col items-start gap-1">
                      <span>{a.planName}</span>
                      <SubscriptionStatusBadge status={a.status} />
                    </div>
                  </td>
                  <td className={td}>
                    <UsageBar percentage={a.usagePercentage} label={`Minutes used by ${a.accountName}`} />
                    <div className="text-xs text-slate-500 tabular-nums">
                      {formatNumber(a.minutesUsed)} of {formatNumber(a.minutesLimit)} min
                    </div>
                  </td>
                  <td className={`${td} text-right tabular-nums`}>
                    <span
                      className={a.activeAgents > a.agentsAllowed ? "font-semibold text-red-700" : undefined}
                    >
                      {formatNumber(a.activeAgents)} / {formatNumber(a.agentsAllowed)}
                    </span>
                    {a.activeAgents > a.agentsAllowed ? (
                      <div className="text-xs text-red-700">Over the limit</div>
                    ) : null}
                  </td>
                  <td className={td}>
                    {a.overagePolicy === "billed" ? (
                      <Badge tone="brand">Billed per minute</Badge>
                    ) : (
                      <Badge>Hard cap</Badge>
                    )}
                    {a.overCapMinutes > 0 ? (
                      <div className="text-xs font-medium text-amber-800">
                        {formatNumber(a.overCapMinutes)} min over the cap (not billed)
                      </div>
                    ) : null}
                  </td>
                  <td className={`${td} whitespace-nowrap`}>{formatDate(a.periodEnd)}</td>
                </tr>
              ))}
            </DataTable>
            <OffsetPager
              page={data.page}
              pageSize={NEAR_PAGE_SIZE}
              total={data.total}
              busy={list.isFetching}
              noun={{ one: "account", other: "accounts" }}
              onPage={(next) => onSearch({ ...search, page: urlPage(next) })}
            />
          </>
        )}
      </QueryList>
    </Section>
  );
}

function MailOutbox({
  search,
  onSearch,
  development,
}: {
  search: UsageSearch;
  onSearch: (next: UsageSearch) => void;
  development: boolean;
}) {
  const page = search.mailPage ?? 1;
  const mail = useQuery({
    ...trpc.mail.list.queryOptions({ page, pageSize: MAIL_PAGE_SIZE }),
    placeholderData: keepPreviousData,
  });
  return (
    <Section
      id="outbox-heading"
      title="Mail outbox"
      actions={development ? <Badge tone="warning">Development: not delivered</Badge> : null}
    >
      <p className="text-sm text-slate-600">
        {development
          ? "In development no mail leaves Minutely: this outbox is where usage alerts and payment notices land. Open one to read it."
          : "Every message Minutely sent (usage alerts, payment notices), newest first."}
      </p>
      <QueryList
        query={mail}
        loadingLabel="Loading mail"
        isEmpty={(data) => data.items.length === 0}
        empty={<EmptyState title="The outbox is empty" />}
      >
        {(data) => (
          <>
            <ul className="flex flex-col divide-y divide-slate-100 rounded-lg ring-1 ring-slate-200">
              {data.items.map((m) => (
                <li key={m.id}>
                  <details className="group px-3 py-2.5 text-sm">
                    <summary className="flex cursor-pointer flex-wrap items-baseline justify-between gap-x-4 gap-y-1">
                      <span className="font-medium text-slate-900">
                        <span aria-hidden className="mr-1.5 inline-block text-slate-400 group-open:rotate-90">
                          ▸
                        </span>
                        {m.subject}
                      </span>
                      <span className="text-xs text-slate-500">
                        to <span className="break-all">{m.to}</span> · {formatDateTime(m.createdAt)}
                        {m.sentAt ? "" : " · not sent yet"}
                      </span>
                    </summary>
                    <pre className="mt-2 font-sans text-sm whitespace-pre-wrap text-slate-700">{m.text}</pre>
                  </details>
                </li>
              ))}
            </ul>
            <OffsetPager
              page={data.page}
              pageSize={MAIL_PAGE_SIZE}
              total={data.total}
              busy={mail.isFetching}
              noun={{ one: "message", other: "messages" }}
              onPage={(next) => onSearch({ ...search, mailPage: urlPage(next) })}
            />
          </>
        )}
      </QueryList>
    </Section>
  );
}
