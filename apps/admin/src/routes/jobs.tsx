import { Banner, Button, ConfirmDialog, EmptyState, messageOf, useIntentMutation } from "@minutely/ui";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { type Column, CursorPager, DataTable, QueryList } from "../components/list.tsx";
import { PageHeader, td } from "../components/ui-bits.tsx";
import { useDocumentTitle } from "../lib/document-title.ts";
import { formatDateTime, formatNumber } from "../lib/format.ts";
import type { JobsSearch } from "../lib/search.ts";
import { queryClient, trpc } from "../lib/trpc.ts";

const PAGE_SIZE = 25;
const COLUMNS: Column[] = [
  { label: "Failed" },
  { label: "Task" },
  { label: "Attempts", className: "text-right" },
  { label: "Payload" },
  { label: "Last error" },
  { label: "Action", className: "sr-only" },
];

interface ReplayTarget {
  id: string;
  task: string;
  payloadSummary: string;
}

export function JobsPage({ search, onSearch }: { search: JobsSearch; onSearch: (next: JobsSearch) => void }) {
  useDocumentTitle("Failed jobs");
  const [target, setTarget] = useState<ReplayTarget | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const tasks = useQuery(trpc.jobs.tasks.queryOptions());
  const list = useInfiniteQuery(
    trpc.jobs.failed.infiniteQueryOptions(
      { task: search.task, limit: PAGE_SIZE },
      { getNextPageParam: (last) => last.nextCursor ?? undefined, refetchInterval: 15_000 },
    ),
  );
  const counts = list.data?.pages[0]?.counts;
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  const replay = useIntentMutation(
    trpc.jobs.replay.mutationOptions({
      onSuccess: async (result, input) => {
        setTarget(null);
        setNotice(
          result.outcome === "replayed"
            ? `Replayed job ${input.id}: it is queued and runs in a moment.`
            : result.outcome === "gone"
              ? `Job ${input.id} is no longer in the queue: it ran and completed.`
              : `Job ${input.id} was already ${result.outcome === "running" ? "running" : "queued"}; nothing changed.`,
        );
        await queryClient.invalidateQueries({ queryKey: trpc.jobs.failed.pathKey() });
        await queryClient.invalidateQueries({ queryKey: trpc.audit.list.pathKey() });
      },
    }),
  );

  return (
    <div className="flex flex-col gap-4">
      <PageHeader
        title="Failed jobs"
        description="Background jobs of every task that used up their attempts, newest first. A job that could not reach the database or Stripe never counts an attempt: it waits and retries until the outage is over, so what is listed here failed on its own error."
      />
      <div className="flex flex-col gap-3 lg:flex-row lg:items-end lg:justify-between">
        <p className="text-sm text-slate-600" data-testid="job-counts">
          {counts ? (
            <>
              <strong className="font-semibold text-slate-900">{formatNumber(counts.failed)} failed</strong>
              {` · ${formatNumber(counts.retrying)} retrying after their own error · ${formatNumber(
                counts.waitingForDependency,
              )} waiting for the database or Stripe (not counted as attempts)`}
            </>
          ) : (
            " "
          )}
        </p>
        <label className="flex w-full flex-col gap-1 text-sm font-medium text-slate-700 lg:w-72">
          Task
          <select
            className="rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm font-normal"
            value={search.task ?? ""}
            onChange={(event) => onSearch({ task: event.target.value || undefined })}
          >
            <option value="">All tasks</option>
            {(tasks.data ?? []).map((task) => (
              <option key={task} value={task}>
                {task}
              </option>
            ))}
          </select>
        </label>
      </div>
      {notice ? (
        <Banner tone="success">
          <p>{notice}</p>
        </Banner>
      ) : null}
      <QueryList
        query={list}
        loadingLabel="Loading failed jobs"
        isEmpty={() => items.length === 0}
        empty={
          <EmptyState title={search.task ? `No failed ${search.task} jobs` : "No failed jobs"}>
            <p>Jobs that fail on every attempt appear here, with their last error and a replay.</p>
          </EmptyState>
        }
      >
        {() => (
          <>
            <DataTable caption="Failed jobs, newest first" columns={COLUMNS} minWidth="min-w-[60rem]">
              {items.map((job) => (
                <tr key={job.id} data-job={job.id} className="border-t border-slate-200">
                  <td className={`${td} whitespace-nowrap`}>{formatDateTime(job.updatedAt)}</td>
                  <th scope="row" className={`${td} text-left font-normal`}>
                    <div className="font-mono text-xs font-medium text-slate-900">{job.task}</div>
                    <div className="font-mono text-xs text-slate-500">job {job.id}</div>
                  </th>
                  <td className={`${td} text-right tabular-nums whitespace-nowrap`}>
                    {job.attempts} of {job.maxAttempts}
                  </td>
                  <td className={`${td} max-w-[16rem] font-mono text-xs break-all text-slate-700`}>
                    {job.payloadSummary}
                  </td>
                  <td className={`${td} max-w-[20rem] text-xs text-red-800`}>
                    <span className="line-clamp-3" title={job.lastError ?? undefined}>
                      {job.lastError ?? "No error recorded"}
                    </span>
                  </td>
                  <td className={`${td} text-right`}>
                    <Button
                      variant="secondary"
                      onClick={() => {
                        replay.reset();
                        setTarget({ id: job.id, task: job.task, payloadSummary: job.payloadSummary });
                      }}
                    >
                      Replay<span className="sr-only">{` job ${job.id}`}</span>
                    </Button>
                  </td>
                </tr>
              ))}
            </DataTable>
            <CursorPager
              count={items.length}
              noun={{ one: "failed job", other: "failed jobs" }}
              hasMore={list.hasNextPage}
              loadingMore={list.isFetchingNextPage}
              onMore={() => list.fetchNextPage()}
            />
          </>
        )}
      </QueryList>
      <ConfirmDialog
        open={target !== null}
        onOpenChange={(open) => {
          if (!open) setTarget(null);
        }}
        title="Replay this job?"
        description={
          <>
            <p>
              The worker runs {target?.task} again with a fresh count of attempts ({target?.payloadSummary}).
              Jobs are idempotent: what an earlier attempt already did is not done twice.
            </p>
            <p>The replay is recorded in the audit log under your name.</p>
          </>
        }
        confirmLabel="Replay job"
        pendingLabel="Replaying…"
        pending={replay.isPending}
        error={replay.isError ? messageOf(replay.error) : null}
        onConfirm={() => {
          if (target && !replay.isPending) replay.mutate({ id: target.id });
        }}
      />
    </div>
  );
}
