import {
  Banner,
  Button,
  ConfirmDialog,
  EmptyState,
  ErrorState,
  Field,
  httpStatusOf,
  Link,
  LiveStatus,
  messageOf,
  ScrollArea,
  Spinner,
  useIntentMutation,
} from "@minutely/ui";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { type Column, CursorPager, DataTable, QueryList } from "../components/list.tsx";
import {
  CopyableId,
  Facts,
  linkClass,
  PageHeader,
  Section,
  ToneBadge,
  td,
  useUrlSearchTerm,
} from "../components/ui-bits.tsx";
import { useDocumentTitle } from "../lib/document-title.ts";
import { formatDateTime, formatNumber, type Tone } from "../lib/format.ts";
import type { WebhookStatusOption, WebhooksSearch } from "../lib/search.ts";
import { queryClient, trpc } from "../lib/trpc.ts";

const PAGE_SIZE = 25;
const COLUMNS: Column[] = [
  { label: "Received" },
  { label: "Type" },
  { label: "Status" },
  { label: "Attempts", className: "text-right" },
  { label: "Object" },
  { label: "Last error" },
];

const STATUS: Record<WebhookStatusOption, { label: string; tone: Tone; explain: string }> = {
  received: {
    label: "Waiting",
    tone: "brand",
    explain: "Recorded and queued; the worker has not processed it yet.",
  },
  processed: { label: "Processed", tone: "success", explain: "Applied to Minutely's records." },
  retrying: {
    label: "Retrying",
    tone: "warning",
    explain: "Processing failed; the queue tries again with growing delays until the maximum attempts.",
  },
  failed: {
    label: "Failed",
    tone: "danger",
    explain:
      "Processing failed for good (on every attempt, or at once when Stripe does not know the object; see the last error). Fix the cause, then replay it.",
  },
};

export function WebhookStatusBadge({ status }: { status: WebhookStatusOption }) {
  return <ToneBadge tone={STATUS[status].tone}>{STATUS[status].label}</ToneBadge>;
}

function FilterTab({
  label,
  count,
  active,
  onClick,
}: {
  label: string;
  count?: number | undefined;
  active: boolean;
  onClick: () => void;
}) {
  return (
    <button
      type="button"
      aria-pressed={active}
      onClick={onClick}
      className={
        active
          ? "rounded-full bg-slate-900 px-3 py-1.5 text-sm font-medium text-white"
          : "rounded-full bg-white px-3 py-1.5 text-sm font-medium text-slate-700 ring-1 ring-slate-300 hover:bg-slate-50"
      }
    >
      {label}
      {count !== undefined && count > 0 ? (
        <span className="tabular-nums">{` (${formatNumber(count)})`}</span>
      ) : null}
    </button>
  );
}

export function WebhooksPage({
  search,
  onSearch,
}: {
  search: WebhooksSearch;
  onSearch: (next: WebhooksSearch) => void;
}) {
  useDocumentTitle("Webhook events");
  const [type, setType] = useUrlSearchTerm(search.type ?? "", (value) =>
    onSearch({ ...search, type: value || undefined }),
  );
  const typeValid = /^[a-z0-9_.]*$/.test(type.trim());
  const list = useInfiniteQuery(
    trpc.webhooks.list.infiniteQueryOptions(
      { status: search.status, type: search.type || undefined, limit: PAGE_SIZE },
      // Live: the admin app's live updates (router.tsx) re-read it as events arrive or are processed.
      { getNextPageParam: (last) => last.nextCursor ?? undefined },
    ),
  );
  const counts = list.data?.pages[0]?.counts;
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  const setStatus = (status: WebhookStatusOption | undefined) => onSearch({ ...search, status });

  return (
    <div className="flex flex-col gap-4">
      <PageHeader
        title="Webhook events"
        description="Every event Stripe sent, newest first. Each is recorded once, acknowledged at once, and processed by the background worker, which re-reads the objects from Stripe."
        actions={<LiveStatus />}
      />
      <div className="flex flex-col gap-3 lg:flex-row lg:items-end lg:justify-between">
        <fieldset className="flex flex-wrap gap-2">
          <legend className="sr-only">Status</legend>
          <FilterTab label="All" active={!search.status} onClick={() => setStatus(undefined)} />
          <FilterTab
            label="Waiting"
            count={counts?.received}
            active={search.status === "received"}
            onClick={() => setStatus("received")}
          />
          <FilterTab
            label="Processed"
            active={search.status === "processed"}
            onClick={() => setStatus("processed")}
          />
          <FilterTab
            label="Retrying"
            count={counts?.retrying}
            active={search.status === "retrying"}
            onClick={() => setStatus("retrying")}
          />
          <FilterTab
            label="Failed"
            count={counts?.failed}
            active={search.status === "failed"}
            onClick={() => setStatus("failed")}
          />
        </fieldset>
        <div className="w-full lg:w-80">
          <Field
            label="Event type"
            value={type}
            placeholder="invoice.paid, or invoice. for all"
            autoComplete="off"
            error={typeValid ? undefined : "Use lowercase letters, digits, dots and underscores"}
            onChange={(event) => setType(event.target.value)}
          />
        </div>
      </div>
      {search.status ? <p className="text-sm text-slate-600">{STATUS[search.status].explain}</p> : null}

      <QueryList
        query={list}
        loadingLabel="Loading webhook events"
        isEmpty={() => items.length === 0}
        empty={
          <EmptyState title={search.status || search.type ? "No events match" : "No webhook events yet"}>
            <p>
              {search.status || search.type
                ? "Try another status or type."
                : "Events appear as Stripe sends them."}
            </p>
          </EmptyState>
        }
      >
        {() => (
          <>
            <DataTable caption="Webhook events, newest first" columns={COLUMNS} minWidth="min-w-[56rem]">
              {items.map((e) => (
                <tr key={e.id} data-event={e.id} className="border-t border-slate-200">
                  <td className={`${td} whitespace-nowrap`}>{formatDateTime(e.receivedAt)}</td>
                  <th scope="row" className={`${td} text-left font-normal`}>
                    <Link
                      to="/webhooks/:eventId"
                      params={{ eventId: e.id }}
                      className={`${linkClass} font-mono text-xs`}
                    >
                      {e.type}
                    </Link>
                    <div className="font-mono text-xs text-slate-500">{e.id}</div>
                  </th>
                  <td className={td}>
                    <WebhookStatusBadge status={e.status} />
                  </td>
                  <td className={`${td} text-right tabular-nums`}>{e.attempts}</td>
                  <td className={`${td} font-mono text-xs break-all`}>{e.objectId ?? "—"}</td>
                  <td className={`${td} max-w-[20rem] text-xs text-red-800`}>
                    <span className="line-clamp-2" title={e.lastError ?? undefined}>
                      {e.lastError ?? ""}
                    </span>
                  </td>
                </tr>
              ))}
            </DataTable>
            <CursorPager
              count={items.length}
              noun={{ one: "event", other: "events" }}
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

export function WebhookEventPage({ eventId }: { eventId: string }) {
  useDocumentTitle(`Webhook ${eventId}`);
  const [confirming, setConfirming] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const detail = useQuery({
    ...trpc.webhooks.get.queryOptions({ id: eventId }),
    // While the replayed event waits for the worker, look again every second.
    refetchInterval: (query) => (query.state.data?.status === "received" ? 1000 : false),
  });
  const heading = useRef<HTMLHeadingElement>(null);
  const loaded = detail.isSuccess;
  useEffect(() => {
    if (loaded) heading.current?.focus();
  }, [loaded]);
  const replay = useIntentMutation(
    trpc.webhooks.replay.mutationOptions({
      onSuccess: async (event) => {
        setConfirming(false);
        setNotice("Replayed: the event is queued and will be processed in a moment.");
        queryClient.setQueryData(trpc.webhooks.get.queryKey({ id: eventId }), event);
        await queryClient.invalidateQueries({ queryKey: trpc.webhooks.list.pathKey() });
        await queryClient.invalidateQueries({ queryKey: trpc.audit.list.pathKey() });
      },
    }),
  );
  const back = (
    <Link to="/webhooks" className="text-sm font-medium text-brand-700 hover:underline">
      ← All webhook events
    </Link>
  );
  if (detail.isPending) return <Spinner label="Loading event" />;
  if (detail.isError) {
    return (
      <div className="flex flex-col gap-4">
        {back}
        {httpStatusOf(detail.error) === 404 ? (
          <EmptyState title="No such webhook event" />
        ) : (
          <ErrorState error={{ message: messageOf(detail.error) }} onRetry={() => detail.refetch()} />
        )}
      </div>
    );
  }
  const e = detail.data;
  const replayable = e.status === "failed" || e.status === "retrying";
  return (
    <div className="flex flex-col gap-4">
      {back}
      <PageHeader
        headingRef={heading}
        title={e.type}
        description={<span className="font-mono">{e.id}</span>}
        actions={
          replayable ? (
            <Button
              onClick={() => {
                replay.reset();
                setConfirming(true);
              }}
            >
              Replay event
            </Button>
          ) : null
        }
      />
      {notice ? (
        <Banner tone={e.status === "processed" ? "success" : "info"}>
          <p>{e.status === "processed" ? "Replayed and processed." : notice}</p>
        </Banner>
      ) : null}
      <Section id="event-heading" title="Processing">
        <Facts
          items={[
            [
              "Status",
              <span key="s" className="flex flex-wrap items-center gap-2">
                <WebhookStatusBadge status={e.status} />
                <span className="text-slate-600">{STATUS[e.status].explain}</span>
              </span>,
            ],
            [
              "Attempts",
              `${e.attempts} of at most ${e.maxAttempts} (since it was received or last replayed)`,
            ],
            ["Created by Stripe", formatDateTime(e.stripeCreatedAt)],
            ["Received", formatDateTime(e.receivedAt)],
            ["Processed", e.processedAt ? formatDateTime(e.processedAt) : "Not yet"],
            ["Object", e.objectId ? <CopyableId key="o" value={e.objectId} label="object id" /> : "—"],
            [
              "Customer",
              e.account ? (
                <Link
                  key="a"
                  to="/customers/:accountId"
                  params={{ accountId: e.account.id }}
                  className={linkClass}
                >
                  {e.account.name}
                </Link>
              ) : (
                "Not a Minutely customer (or none)"
              ),
            ],
          ]}
        />
        {e.lastError ? (
          <div>
            <h3 className="text-sm font-medium text-slate-700">Last error</h3>
            <pre className="mt-1 overflow-x-auto rounded-lg bg-red-50 p-3 text-xs whitespace-pre-wrap text-red-900 ring-1 ring-red-200">
              {e.lastError}
            </pre>
          </div>
        ) : null}
      </Section>
      <Section id="payload-heading" title="Payload">
        <ScrollArea
          label="Event payload (JSON)"
          className="max-h-[32rem] overflow-auto rounded-lg bg-slate-900"
        >
          <pre className="p-3 text-xs text-slate-100">{JSON.stringify(e.payload, null, 2)}</pre>
        </ScrollArea>
      </Section>
      <ConfirmDialog
        open={confirming}
        onOpenChange={(open) => {
          if (!open) setConfirming(false);
        }}
        title="Replay this event?"
        description={
          <>
            <p>
              The worker processes {e.type} again: it re-reads the objects it names from Stripe and brings
              Minutely's records in line, so replaying is safe even if part of it was applied before.
            </p>
            <p>The replay is recorded in the audit log under your name.</p>
          </>
        }
        confirmLabel="Replay event"
        pendingLabel="Replaying…"
        pending={replay.isPending}
        error={replay.isError ? messageOf(replay.error) : null}
        onConfirm={() => {
          if (!replay.isPending) replay.mutate({ id: e.id });
        }}
      />
    </div>
  );
}
