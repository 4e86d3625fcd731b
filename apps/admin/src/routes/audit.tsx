import { Button, EmptyState, Field, fieldErrorsOf, Link, ScrollArea, SelectField } from "@minutely/ui";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { type Column, CursorPager, DataTable, QueryList } from "../components/list.tsx";
import { linkClass, PageHeader, td } from "../components/ui-bits.tsx";
import { changedFields } from "../lib/audit-diff.ts";
import { useDocumentTitle } from "../lib/document-title.ts";
import { formatDateTime } from "../lib/format.ts";
import type { AuditSearch } from "../lib/search.ts";
import { type AdminOutputs, trpc } from "../lib/trpc.ts";

const PAGE_SIZE = 25;
type Entry = AdminOutputs["audit"]["list"]["items"][number];
const COLUMNS: Column[] = [
  { label: "When" },
  { label: "Admin" },
  { label: "Action" },
  { label: "Entity" },
  { label: "Change" },
];

const ENTITY_LABELS: Record<string, string> = {
  package: "Package",
  catalog: "Catalog order",
  account: "Customer account",
  stripe_event: "Webhook event",
};

function entityLabel(type: string): string {
  return ENTITY_LABELS[type] ?? type.replaceAll("_", " ");
}

/** Where an audit entry's entity lives in the admin app, when it has a page. */
function EntityLink({ entry }: { entry: Entry }) {
  const id = <span className="font-mono text-xs break-all">{entry.entityId}</span>;
  if (entry.entityType === "account") {
    return (
      <Link to="/customers/:accountId" params={{ accountId: entry.entityId }} className={linkClass}>
        {id}
      </Link>
    );
  }
  if (entry.entityType === "stripe_event") {
    return (
      <Link to="/webhooks/:eventId" params={{ eventId: entry.entityId }} className={linkClass}>
        {id}
      </Link>
    );
  }
  if (entry.entityType === "package") {
    return (
      <Link to="/packages/:id" params={{ id: entry.entityId }} className={linkClass}>
        {id}
      </Link>
    );
  }
  return id;
}

export function AuditPage({
  search,
  onSearch,
}: {
  search: AuditSearch;
  onSearch: (next: AuditSearch) => void;
}) {
  useDocumentTitle("Audit log");
  const filters = useQuery(trpc.audit.filters.queryOptions());
  const list = useInfiniteQuery(
    trpc.audit.list.infiniteQueryOptions(
      {
        actorUserId: search.actor,
        entityType: search.entityType,
        entityId: search.entityId,
        from: search.from,
        to: search.to,
        limit: PAGE_SIZE,
      },
      { getNextPageParam: (last) => last.nextCursor ?? undefined },
    ),
  );
  const errors = list.isError ? fieldErrorsOf(list.error) : {};
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  const filtered = Boolean(search.actor || search.entityType || search.entityId || search.from || search.to);
  const entityTypes = [
    ...new Set([...(filters.data?.entityTypes ?? []), ...(search.entityType ? [search.entityType] : [])]),
  ];

  return (
    <div className="flex flex-col gap-4">
      <PageHeader
        title="Audit log"
        description="What admins changed, newest first: who, what, and the values before and after. Dates are UTC days."
      />
      <search
        aria-label="Filter the audit log"
        className="grid gap-3 sm:grid-cols-2 lg:grid-cols-[1fr_1fr_auto_auto_auto]"
      >
        <SelectField
          label="Admin"
          value={search.actor ?? ""}
          options={[
            { value: "", label: "All admins" },
            ...(filters.data?.actors ?? []).map((a) => ({ value: a.userId, label: a.email })),
          ]}
          onChange={(event) => onSearch({ ...search, actor: event.target.value || undefined })}
        />
        <SelectField
          label="Entity"
          value={search.entityType ?? ""}
          options={[
            { value: "", label: "All entities" },
            ...entityTypes.map((t) => ({ value: t, label: entityLabel(t) })),
          ]}
          onChange={(event) =>
            onSearch({ ...search, entityType: event.target.value || undefined, entityId: undefined })
          }
        />
        <Field
          label="From"
          type="date"
          value={search.from ?? ""}
          max={search.to}
          onChange={(event) => onSearch({ ...search, from: event.target.value || undefined })}
        />
        <Field
          label="To"
          type="date"
          value={search.to ?? ""}
          min={search.from}
          error={errors.to}
          onChange={(event) => onSearch({ ...search, to: event.target.value || undefined })}
        />
        <div className="flex items-end">
          <Button
            variant="secondary"
            disabled={!filtered}
            onClick={() => onSearch({})}
            className="w-full sm:w-auto"
          >
            Clear filters
          </Button>
        </div>
      </search>
      {search.entityId ? (
        <p className="text-sm text-slate-600">
          Only entries about <span className="font-mono">{search.entityId}</span>.{" "}
          <button
            type="button"
            className={linkClass}
            onClick={() => onSearch({ ...search, entityId: undefined })}
          >
            Show all {search.entityType ? entityLabel(search.entityType).toLowerCase() : ""} entries
          </button>
        </p>
      ) : null}

      <QueryList
        query={list}
        loadingLabel="Loading the audit log"
        isEmpty={() => items.length === 0}
        empty={<EmptyState title={filtered ? "No entries match these filters" : "No admin actions yet"} />}
      >
        {() => (
          <>
            <DataTable caption="Audit log entries, newest first" columns={COLUMNS} minWidth="min-w-[56rem]">
              {items.map((entry) => (
                <tr key={entry.id} data-action={entry.action} className="border-t border-slate-200">
                  <td className={`${td} whitespace-nowrap`}>{formatDateTime(entry.createdAt)}</td>
                  <td className={`${td} whitespace-nowrap`}>{entry.actorEmail}</td>
                  <td className={`${td} font-mono text-xs`}>{entry.action}</td>
                  <td className={`${td} min-w-[12rem]`}>
                    <div className="text-xs text-slate-500">{entityLabel(entry.entityType)}</div>
                    <EntityLink entry={entry} />
                  </td>
                  <td className={`${td} min-w-[18rem]`}>
                    <Changes entry={entry} />
                  </td>
                </tr>
              ))}
            </DataTable>
            <CursorPager
              count={items.length}
              noun={{ one: "entry", other: "entries" }}
              hasMore={list.hasNextPage}
              loadingMore={list.isFetchingNextPage}
              onMore={() => list.fetchNextPage()}
            />
          </>
        )}
      </QueryList>
    </div>
  );
}

function show(value: unknown): string {
  if (value === undefined) return "—";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function Changes({ entry }: { entry: Entry }) {
  const changes = changedFields(entry.before, entry.after);
  return (
    <div className="flex flex-col gap-1.5">
      {changes.length > 0 ? (
        <ul className="flex flex-col gap-0.5 text-xs">
          {changes.slice(0, 6).map((c) => (
            <li key={c.field} className="break-words">
              <span className="font-medium text-slate-700">{c.field}</span>:{" "}
              {c.before !== undefined ? (
                <>
                  <span className="text-slate-500 line-through decoration-slate-400">{show(c.before)}</span> →{" "}
                </>
              ) : null}
              <span className="text-slate-900">{show(c.after)}</span>
            </li>
          ))}
          {changes.length > 6 ? <li className="text-slate-500">and {changes.length - 6} more</li> : null}
        </ul>
      ) : (
        <p className="text-xs text-slate-500">No field changed.</p>
      )}
      <details>
        <summary className="cursor-pointer text-xs font-medium text-brand-700">Before and after</summary>
        <div className="mt-2 grid gap-2 xl:grid-cols-2">
          <JsonBlock label="Before" value={entry.before} />
          <JsonBlock label="After" value={entry.after} />
        </div>
      </details>
    </div>
  );
}

function JsonBlock({ label, value }: { label: string; value: unknown }) {
  return (
    <div className="min-w-0">
      <p className="text-xs font-medium text-slate-500">{label}</p>
      <ScrollArea label={label} className="max-h-64 overflow-auto rounded bg-slate-50 ring-1 ring-slate-200">
        <pre className="p-2 text-xs">
          {value === null || value === undefined ? "—" : JSON.stringify(value, null, 2)}
        </pre>
      </ScrollArea>
    </div>
  );
}
