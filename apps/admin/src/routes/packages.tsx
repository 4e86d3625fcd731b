import { formatMoney } from "@minutely/domain";
import {
  Badge,
  Banner,
  Button,
  ConfirmDialog,
  cn,
  EmptyState,
  ErrorState,
  Link,
  messageOf,
  Spinner,
  useIntentMutation,
} from "@minutely/ui";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { type Column, DataTable } from "../components/list.tsx";
import { PriceHistory } from "../components/price-history.tsx";
import { useDocumentTitle } from "../lib/document-title.ts";
import { clearFlash, type Notice, peekFlash, sentence } from "../lib/flash.ts";
import { formatNumber } from "../lib/format.ts";
import { type AdminPackage, queryClient, trpc } from "../lib/trpc.ts";

const COLUMNS: Column[] = [
  { label: "Order", srOnly: true, className: "w-10 rounded-tl-xl pr-1" },
  { label: "Package", className: "sticky left-0 z-10 bg-slate-50" },
  { label: "Price" },
  { label: "Minutes", className: "text-right" },
  { label: "Agents", className: "text-right" },
  { label: "Features" },
  { label: "Overage" },
  { label: "Status" },
  { label: "Subscribers", className: "text-right" },
  { label: "Stripe" },
  { label: "Actions", srOnly: true },
];

const listQuery = trpc.packages.list.queryOptions();
const listKey = trpc.packages.list.queryKey();

function invalidateList() {
  return queryClient.invalidateQueries({ queryKey: listKey });
}

function moveButtonId(id: string, direction: "up" | "down") {
  return `move-${direction}-${id}`;
}

function NoticeBanner({ notice, onDismiss }: { notice: Notice; onDismiss: () => void }) {
  return (
    <Banner tone={notice.tone} className="flex gap-3">
      <div className="flex-1">
        {notice.title ? <p className="font-semibold">{notice.title}</p> : null}
        <p>{notice.message}</p>
      </div>
      <button
        type="button"
        className="self-start rounded px-1 font-medium underline"
        onClick={onDismiss}
        aria-label="Dismiss message"
      >
        Dismiss
      </button>
    </Banner>
  );
}

export function PackagesPage() {
  useDocumentTitle("Packages");
  const packages = useQuery(listQuery);
  const [notice, setNotice] = useState<Notice | null>(peekFlash);
  useEffect(() => clearFlash(), []);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const [archiveTarget, setArchiveTarget] = useState<AdminPackage | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const focusAfterMove = useRef<{ id: string; direction: "up" | "down" } | null>(null);

  const reorder = useIntentMutation(
    trpc.packages.reorder.mutationOptions({
      onMutate: async ({ ids }) => {
        await queryClient.cancelQueries({ queryKey: listKey });
        const previous = queryClient.getQueryData(listKey);
        if (previous) {
          const byId = new Map(previous.map((pkg) => [pkg.id, pkg]));
          queryClient.setQueryData(
            listKey,
            ids.flatMap((id) => byId.get(id) ?? []),
          );
        }
        return { previous };
      },
      onError: (error, _input, context) => {
        if (context?.previous) queryClient.setQueryData(listKey, context.previous);
        setNotice({ tone: "danger", title: "The order was not saved", message: messageOf(error) });
      },
      onSettled: () => invalidateList(),
    }),
  );

  const archive = useIntentMutation(
    trpc.packages.archive.mutationOptions({
      onSuccess: async ({ package: pkg, syncError }) => {
        setArchiveTarget(null);
        setNotice(
          syncError
            ? {
                tone: "warning",
                title: `${pkg.name} is archived, but Stripe was not updated`,
                message: `${sentence(syncError)} Use Retry in the Stripe column.`,
              }
            : { tone: "success", message: `${pkg.name} is archived: customers can no longer choose it.` },
        );
        await invalidateList();
      },
    }),
  );

  // Moving a row re-inserts its DOM node, which drops focus: put it back on the button that was pressed,
  // or on the other one when the row reached the top or bottom (that button is now disabled).
  const data = packages.data;
  useLayoutEffect(() => {
    const target = focusAfterMove.current;
    if (!target || !data) return;
    focusAfterMove.current = null;
    const pressed = document.getElementById(moveButtonId(target.id, target.direction));
    const other = document.getElementById(moveButtonId(target.id, target.direction === "up" ? "down" : "up"));
    const next = pressed instanceof HTMLButtonElement && !pressed.disabled ? pressed : other;
    next?.focus();
  }, [data]);

  if (packages.isPending) return <Spinner label="Loading packages" />;
  if (packages.isError) {
    return (
      <div className="flex flex-col gap-4">
        <h1 className="text-2xl font-bold">Packages</h1>
        <ErrorState error={{ message: messageOf(packages.error) }} onRetry={() => packages.refetch()} />
      </div>
    );
  }

  const list = packages.data;

  function move(pkg: AdminPackage, direction: "up" | "down") {
    if (reorder.isPending) return;
    const ids = list.map((p) => p.id);
    const from = ids.indexOf(pkg.id);
    const to = direction === "up" ? from - 1 : from + 1;
    if (from < 0 || to < 0 || to >= ids.length) return;
    [ids[from], ids[to]] = [ids[to] as string, ids[from] as string];
    focusAfterMove.current = { id: pkg.id, direction };
    setAnnouncement("");
    reorder.mutate(
      { ids },
      { onSuccess: () => setAnnouncement(`${pkg.name} moved to position ${to + 1} of ${ids.length}.`) },
    );
  }

  function toggle(id: string) {
    setExpanded((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }

  return (
    <div className="flex flex-col gap-4">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-2xl font-bold">Packages</h1>
          <p className="text-sm text-slate-600">
            Customers see active packages in this order. Each package is a Stripe product with a monthly
            price.
          </p>
        </div>
        <Button asChild>
          <Link to="/packages/new">New package</Link>
        </Button>
      </div>

      {notice ? <NoticeBanner notice={notice} onDismiss={() => setNotice(null)} /> : null}
      <div aria-live="polite" className="sr-only">
        {announcement}
      </div>

      {list.length === 0 ? (
        <EmptyState title="No packages yet">
          <p>Create the first package customers can subscribe to.</p>
          <Button asChild className="mt-4">
            <Link to="/packages/new">New package</Link>
          </Button>
        </EmptyState>
      ) : (
        <DataTable
          caption="Packages in the order customers see them"
          columns={COLUMNS}
          minWidth="min-w-[62rem]"
          rowGroups
        >
          {list.map((pkg, index) => (
            <PackageRows
              key={pkg.id}
              pkg={pkg}
              isFirst={index === 0}
              isLast={index === list.length - 1}
              reordering={reorder.isPending}
              expanded={expanded.has(pkg.id)}
              onToggle={() => toggle(pkg.id)}
              onMove={(direction) => move(pkg, direction)}
              onArchive={() => {
                archive.reset();
                setArchiveTarget(pkg);
              }}
              onNotice={setNotice}
            />
          ))}
        </DataTable>
      )}

      <ConfirmDialog
        open={archiveTarget !== null}
        onOpenChange={(open) => {
          if (!open) setArchiveTarget(null);
        }}
        title={archiveTarget ? `Archive ${archiveTarget.name}?` : "Archive package?"}
        description={
          archiveTarget ? (
            <>
              <p>
                Customers can no longer choose {archiveTarget.name} for a new subscription or a plan change,
                and it leaves the pricing page.
              </p>
              <p>
                Existing subscribers keep it
                {archiveTarget.subscribers > 0 ? ` (${formatNumber(archiveTarget.subscribers)} today)` : ""}{" "}
                until they change plan.
                {archiveTarget.recommended ? " It also loses its Recommended badge." : ""} You can unarchive
                it later.
              </p>
            </>
          ) : null
        }
        confirmLabel="Archive package"
        pendingLabel="Archiving…"
        tone="danger"
        pending={archive.isPending}
        error={archive.isError ? messageOf(archive.error) : null}
        onConfirm={() => {
          if (archiveTarget && !archive.isPending) archive.mutate({ id: archiveTarget.id });
        }}
      />
    </div>
  );
}

const cell = "px-3 py-3 align-top";
const linkButton =
  "whitespace-nowrap text-xs font-medium text-brand-700 underline underline-offset-2 hover:text-brand-600 disabled:text-slate-400 disabled:no-underline";

function PackageRows({
  pkg,
  isFirst,
  isLast,
  reordering,
  expanded,
  onToggle,
  onMove,
  onArchive,
  onNotice,
}: {
  pkg: AdminPackage;
  isFirst: boolean;
  isLast: boolean;
  reordering: boolean;
  expanded: boolean;
  onToggle: () => void;
  onMove: (direction: "up" | "down") => void;
  onArchive: () => void;
  onNotice: (notice: Notice) => void;
}) {
  const detailsId = `prices-${pkg.id}`;
  const sync = useIntentMutation(trpc.packages.sync.mutationOptions({ onSuccess: () => invalidateList() }));
  const unarchive = useIntentMutation(
    trpc.packages.unarchive.mutationOptions({
      onSuccess: async ({ package: changed, syncError }) => {
        onNotice(
          syncError
            ? {
                tone: "warning",
                title: `${changed.name} is active again, but Stripe was not updated`,
                message: `${sentence(syncError)} Use Retry in the Stripe column.`,
              }
            : { tone: "success", message: `${changed.name} is active again: customers can choose it.` },
        );
        await invalidateList();
      },
      onError: (error) =>
        onNotice({ tone: "danger", title: `${pkg.name} was not unarchived`, message: messageOf(error) }),
    }),
  );

  return (
    <tbody className="border-t border-slate-200">
      <tr data-package={pkg.name} className={pkg.active ? "bg-white" : "bg-slate-50"}>
        <td className="py-3 pr-1 pl-3 align-top">
          <div className="flex flex-col gap-1">
            <MoveButton
              id={moveButtonId(pkg.id, "up")}
              label={`Move ${pkg.name} up`}
              arrow="↑"
              disabled={isFirst}
              busy={reordering}
              onClick={() => onMove("up")}
            />
            <MoveButton
              id={moveButtonId(pkg.id, "down")}
              label={`Move ${pkg.name} down`}
              arrow="↓"
              disabled={isLast}
              busy={reordering}
              onClick={() => onMove("down")}
            />
          </div>
        </td>
        <th
          scope="row"
          className={cn(
            cell,
            "sticky left-0 z-10 text-left font-normal",
            pkg.active ? "bg-white" : "bg-slate-50",
          )}
        >
          <div className="w-max max-w-[10rem] sm:max-w-[13rem]">
            <div className="flex flex-wrap items-center gap-1.5">
              <span className="font-semibold text-slate-900">{pkg.name}</span>
              {pkg.recommended ? <Badge tone="brand">Recommended</Badge> : null}
              {pkg.trial ? (
                <Badge tone="success">
                  {pkg.trial.days}-day trial{pkg.trial.requiresCard ? "" : ", no card"}
                </Badge>
              ) : null}
            </div>
            {pkg.description ? (
              <p className="mt-0.5 line-clamp-2 text-xs text-slate-500" title={pkg.description}>
                {pkg.description}
              </p>
            ) : null}
          </div>
        </th>
        <td className={cn(cell, "font-medium whitespace-nowrap")}>{formatMoney(pkg.monthlyPrice)}/mo</td>
        <td className={cn(cell, "text-right tabular-nums")}>{formatNumber(pkg.callMinutesLimit)}</td>
        <td className={cn(cell, "text-right tabular-nums")}>{formatNumber(pkg.agentsAllowed)}</td>
        <td className={cell}>
          <ul className="flex flex-col gap-0.5 text-xs whitespace-nowrap">
            <Feature on={pkg.features.analytics} label="Analytics" />
            <Feature on={pkg.features.apiAccess} label="API access" />
          </ul>
        </td>
        <td className={cn(cell, "whitespace-nowrap")}>
          {pkg.overagePricePerMinute ? `${formatMoney(pkg.overagePricePerMinute)}/min` : "Hard cap"}
        </td>
        <td className={cell}>
          {pkg.active ? <Badge tone="success">Active</Badge> : <Badge>Archived</Badge>}
        </td>
        <td className={cn(cell, "text-right tabular-nums")}>{formatNumber(pkg.subscribers)}</td>
        <td className={cell}>
          <div className="flex flex-col items-start gap-1">
            {pkg.synced ? (
              <Badge tone="success" className="whitespace-nowrap">
                Synced
              </Badge>
            ) : (
              <Badge tone="warning" className="whitespace-nowrap">
                Not synced
              </Badge>
            )}
            {pkg.synced ? null : (
              <button
                type="button"
                className={linkButton}
                disabled={sync.isPending}
                onClick={() => sync.mutate({ id: pkg.id })}
              >
                {sync.isPending ? "Retrying…" : "Retry"}
                <span className="sr-only"> Stripe sync of {pkg.name}</span>
              </button>
            )}
            {sync.isError ? (
              <p role="alert" className="max-w-[12rem] text-xs text-red-700">
                Sync failed: {messageOf(sync.error)}
              </p>
            ) : null}
            <button
              type="button"
              className={linkButton}
              aria-expanded={expanded}
              aria-controls={detailsId}
              onClick={onToggle}
            >
              {expanded ? "Hide prices" : `Prices (${pkg.prices.length})`}
              <span className="sr-only"> of {pkg.name}</span>
            </button>
          </div>
        </td>
        <td className={cell}>
          <div className="flex justify-end gap-1.5 whitespace-nowrap">
            <Button asChild variant="secondary" className="px-2.5 py-1.5">
              <Link to="/packages/:id" params={{ id: pkg.id }}>
                Edit<span className="sr-only"> {pkg.name}</span>
              </Link>
            </Button>
            <Button
              variant="secondary"
              className="px-2.5 py-1.5"
              disabled={unarchive.isPending}
              onClick={() => {
                if (pkg.active) onArchive();
                else if (!unarchive.isPending) unarchive.mutate({ id: pkg.id });
              }}
            >
              {pkg.active ? "Archive" : unarchive.isPending ? "Unarchiving…" : "Unarchive"}
              <span className="sr-only"> {pkg.name}</span>
            </Button>
          </div>
        </td>
      </tr>
      {expanded ? (
        <tr id={detailsId}>
          <td colSpan={COLUMNS.length} className="bg-slate-50 px-3 py-4">
            <div className="sticky left-3 max-w-[calc(100vw-4rem)] sm:max-w-3xl">
              <PriceHistory pkg={pkg} headingId={`${detailsId}-heading`} />
            </div>
          </td>
        </tr>
      ) : null}
    </tbody>
  );
}

function Feature({ on, label }: { on: boolean; label: string }) {
  return (
    <li className={on ? "text-slate-800" : "text-slate-600"}>
      <span aria-hidden className={cn("inline-block w-3.5", on && "font-bold text-emerald-700")}>
        {on ? "✓" : "–"}
      </span>
      {label}
      <span className="sr-only">{on ? ": included" : ": not included"}</span>
    </li>
  );
}

function MoveButton({
  id,
  label,
  arrow,
  disabled,
  busy,
  onClick,
}: {
  id: string;
  label: string;
  arrow: string;
  disabled: boolean;
  busy: boolean;
  onClick: () => void;
}) {
  return (
    <button
      id={id}
      type="button"
      aria-label={label}
      title={label}
      disabled={disabled}
      aria-disabled={busy || undefined}
      onClick={busy ? undefined : onClick}
      className="flex size-6 items-center justify-center rounded text-slate-600 ring-1 ring-slate-300 hover:bg-slate-100 disabled:opacity-30 disabled:hover:bg-transparent aria-disabled:cursor-wait"
    >
      <span aria-hidden>{arrow}</span>
    </button>
  );
}
