// What the admin's list pages (customers, usage, audit log, webhook events) share: the loading, error and
// empty states around a list, the table shell, and the two pagers (page numbers in the URL, or "load older").
// The table shell also draws the detail pages' tables, the packages list and the charts' numbers.
import { Button, cn, ErrorState, messageOf, Spinner } from "@minutely/ui";
import type { ReactNode } from "react";
import { formatNumber } from "../lib/format.ts";
import { TableBox, th, theadRow } from "./ui-bits.tsx";

/** What `QueryList` reads of a TanStack Query result (plain or infinite). */
interface ListQuery<TData> {
  isPending: boolean;
  isError: boolean;
  error: unknown;
  data: TData | undefined;
  refetch: () => unknown;
}

/**
 * A query's list: a spinner while it loads, the error with "Try again" when it failed, `empty` when
 * `isEmpty` says there is nothing to show, and otherwise what `children` renders from the data.
 */
export function QueryList<TData>({
  query,
  loadingLabel,
  isEmpty,
  empty,
  children,
}: {
  query: ListQuery<TData>;
  loadingLabel: string;
  isEmpty: (data: TData) => boolean;
  /** Usually an `<EmptyState>`. */
  empty: ReactNode;
  children: (data: TData) => ReactNode;
}) {
  if (query.isPending) return <Spinner label={loadingLabel} />;
  if (query.isError) {
    return <ErrorState error={{ message: messageOf(query.error) }} onRetry={() => query.refetch()} />;
  }
  // Neither pending nor failed: the query succeeded, so it holds its data.
  const data = query.data as TData;
  return isEmpty(data) ? empty : children(data);
}

export interface Column {
  label: string;
  /** Classes added to the header cell's (`text-right` for numbers). */
  className?: string;
  /** The label is for screen readers only (a column of links or buttons). */
  srOnly?: boolean;
}

/**
 * A table: a caption for screen readers, a header row of `columns`, and the rows (`children`) as its body.
 * By default it is a list's table, in a white box that scrolls sideways, under a grey header band;
 * `compact` draws the light table that sits inside a panel instead (a chart's numbers, a package's prices).
 */
export function DataTable({
  caption,
  columns,
  minWidth,
  busy,
  boxClassName,
  compact,
  rowGroups,
  children,
}: {
  /** For screen readers (shown to nobody else): what the table lists. */
  caption?: string;
  columns: readonly Column[];
  /** The table's least width (a Tailwind class such as `min-w-[56rem]`); narrower screens scroll the box. */
  minWidth?: string;
  /** Sets `aria-busy` on the table (while it refetches). */
  busy?: boolean;
  boxClassName?: string | undefined;
  /**
   * The light table, with this vertical padding in its cells (the rows' cells use the same): no box (the
   * caller scrolls it when it must), no header band, columns 1rem apart.
   */
  compact?: "py-1" | "py-1.5";
  /** `children` are `<tbody>` row groups (a row with its detail row), each its own body, not rows. */
  rowGroups?: boolean;
  children: ReactNode;
}) {
  const last = columns.length - 1;
  const table = (
    <table className={cn("w-full", minWidth, "text-left text-sm")} aria-busy={busy}>
      {caption ? <caption className="sr-only">{caption}</caption> : null}
      <thead className={compact ? undefined : theadRow}>
        <tr className={compact ? "text-xs text-slate-500 uppercase" : undefined}>
          {columns.map((column, index) => (
            <th
              key={column.label}
              scope="col"
              className={
                compact
                  ? cn(compact, index < last && "pr-4", column.className, "font-medium")
                  : cn(th, column.className)
              }
            >
              {column.srOnly ? <span className="sr-only">{column.label}</span> : column.label}
            </th>
          ))}
        </tr>
      </thead>
      {rowGroups ? children : <tbody>{children}</tbody>}
    </table>
  );
  return compact ? (
    table
  ) : (
    <TableBox className={boxClassName} label={caption ?? "Table"}>
      {table}
    </TableBox>
  );
}

/** The page number for the URL: the first page is the default, so it stays out of the URL. */
export function urlPage(page: number): number | undefined {
  return page === 1 ? undefined : page;
}

/** "Showing 26–50 of 10,000" with Previous / Next; the page number lives in the URL. */
export function OffsetPager({
  page,
  pageSize,
  total,
  onPage,
  busy,
  noun,
}: {
  page: number;
  pageSize: number;
  total: number;
  onPage: (page: number) => void;
  busy?: boolean;
  /** What is counted, in the singular and the plural. */
  noun: { one: string; other: string };
}) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const first = total === 0 ? 0 : (page - 1) * pageSize + 1;
  const last = Math.min(total, page * pageSize);
  return (
    <nav
      aria-label={`Pages of ${noun.other}`}
      className="flex flex-wrap items-center justify-between gap-3 text-sm"
    >
      <p className="text-slate-600" aria-live="polite">
        {total === 0
          ? `No ${noun.other}`
          : `Showing ${formatNumber(first)}–${formatNumber(last)} of ${formatNumber(total)} ${total === 1 ? noun.one : noun.other} · page ${formatNumber(page)} of ${formatNumber(pages)}`}
      </p>
      <div className="flex gap-2">
        <Button variant="secondary" disabled={page <= 1 || busy} onClick={() => onPage(page - 1)}>
          ← Previous<span className="sr-only"> page</span>
        </Button>
        <Button variant="secondary" disabled={page >= pages || busy} onClick={() => onPage(page + 1)}>
          Next<span className="sr-only"> page</span> →
        </Button>
      </div>
    </nav>
  );
}

/** "Showing 50 events; older events follow." with "Load older events", for lists read by cursor. */
export function CursorPager({
  count,
  noun,
  hasMore,
  loadingMore,
  onMore,
}: {
  /** How many are shown so far. */
  count: number;
  /** What is counted, in the singular and the plural. */
  noun: { one: string; other: string };
  hasMore: boolean;
  loadingMore: boolean;
  onMore: () => void;
}) {
  return (
    <div className="flex flex-wrap items-center justify-between gap-3 text-sm">
      <p className="text-slate-600" aria-live="polite">
        Showing {formatNumber(count)} {count === 1 ? noun.one : noun.other}
        {hasMore ? `; older ${noun.other} follow` : ""}.
      </p>
      {hasMore ? (
        <Button variant="secondary" disabled={loadingMore} onClick={onMore}>
          {loadingMore ? "Loading…" : `Load older ${noun.other}`}
        </Button>
      ) : null}
    </div>
  );
}
