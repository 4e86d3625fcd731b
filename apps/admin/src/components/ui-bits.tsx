// Small building blocks shared by the admin pages: headers, table boxes, badges, usage bars (the list
// pages' states, tables and pagers are in list.tsx).
import { Badge, cn, ScrollArea } from "@minutely/ui";
import { type ReactNode, type Ref, useEffect, useRef, useState } from "react";
import { formatPercent, subscriptionStatusLabel, subscriptionStatusTone, type Tone } from "../lib/format.ts";

export function PageHeader({
  title,
  description,
  actions,
  headingRef,
}: {
  title: string;
  description?: ReactNode;
  actions?: ReactNode;
  headingRef?: Ref<HTMLHeadingElement>;
}) {
  return (
    <div className="flex flex-wrap items-end justify-between gap-3">
      <div className="min-w-0">
        <h1 ref={headingRef} tabIndex={-1} className="text-2xl font-bold wrap-anywhere focus:outline-none">
          {title}
        </h1>
        {description ? (
          <div className="mt-1 max-w-3xl text-sm wrap-anywhere text-slate-600">{description}</div>
        ) : null}
      </div>
      {actions ? <div className="flex flex-wrap gap-2">{actions}</div> : null}
    </div>
  );
}

/**
 * A white box whose table scrolls sideways inside it on narrow screens (the page itself never does). The
 * scroller is `relative`: visually hidden text in the table is positioned, and must scroll (and clip) with it.
 */
export function TableBox({
  children,
  className,
  label,
}: {
  children: ReactNode;
  className?: string | undefined;
  /** Names the scrolling region (it takes keyboard focus while the table is wider than the screen). */
  label: string;
}) {
  return (
    <div className={cn("rounded-xl bg-white shadow-sm ring-1 ring-slate-200", className)}>
      <ScrollArea label={label} className="relative overflow-x-auto rounded-xl">
        {children}
      </ScrollArea>
    </div>
  );
}

export const th = "px-3 py-2.5 font-medium whitespace-nowrap";
export const td = "px-3 py-2.5 align-top";
export const theadRow = "bg-slate-50 text-left text-xs text-slate-500 uppercase";
export const linkClass = "font-medium text-brand-700 underline-offset-2 hover:underline";

export function SubscriptionStatusBadge({ status }: { status: string }) {
  return (
    <Badge tone={subscriptionStatusTone(status)} className="whitespace-nowrap">
      {subscriptionStatusLabel(status)}
    </Badge>
  );
}

export function ToneBadge({ tone, children }: { tone: Tone; children: ReactNode }) {
  return (
    <Badge tone={tone} className="whitespace-nowrap">
      {children}
    </Badge>
  );
}

/** Usage as a bar and a number; the bar turns amber from 80% and red from 100%. */
export function UsageBar({ percentage, label }: { percentage: number; label?: string }) {
  const tone = percentage >= 100 ? "bg-red-600" : percentage >= 80 ? "bg-amber-500" : "bg-brand-600";
  return (
    <div className="flex min-w-[8rem] items-center gap-2">
      <div aria-hidden className="h-2 flex-1 overflow-hidden rounded-full bg-slate-200">
        <div className={cn("h-full rounded-full", tone)} style={{ width: `${Math.min(100, percentage)}%` }} />
      </div>
      <span className="w-14 text-right text-sm tabular-nums">
        <span className="sr-only">{label ?? "Minutes used"}: </span>
        {formatPercent(percentage)}
      </span>
    </div>
  );
}

/** A Stripe (or other) id in monospace with a Copy button; a link when `href` is given. */
export function CopyableId({
  value,
  href,
  label,
}: {
  value: string;
  href?: string | undefined;
  label: string;
}) {
  const [copied, setCopied] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => (timer.current ? clearTimeout(timer.current) : undefined), []);
  return (
    <span className="inline-flex max-w-full flex-wrap items-center gap-2">
      {href ? (
        <a
          href={href}
          target="_blank"
          rel="noreferrer"
          className={cn(linkClass, "font-mono text-xs break-all")}
        >
          {value}
          <span className="sr-only"> (opens Stripe's dashboard in a new tab)</span>
        </a>
      ) : (
        <code className="font-mono text-xs break-all text-slate-800">{value}</code>
      )}
      <button
        type="button"
        className="rounded px-1.5 py-0.5 text-xs font-medium text-slate-600 ring-1 ring-slate-300 hover:bg-slate-50"
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(value);
            setCopied(true);
            if (timer.current) clearTimeout(timer.current);
            timer.current = setTimeout(() => setCopied(false), 2000);
          } catch {
            setCopied(false);
          }
        }}
      >
        {copied ? "Copied" : "Copy"}
        <span className="sr-only"> {label}</span>
      </button>
    </span>
  );
}

/** Key facts as a two-column list that stacks on phones. */
export function Facts({ items }: { items: [string, ReactNode][] }) {
  return (
    <dl className="grid grid-cols-1 gap-x-6 gap-y-2 text-sm sm:grid-cols-[minmax(0,max-content)_minmax(0,1fr)]">
      {items.map(([term, value]) => (
        <div key={term} className="contents">
          <dt className="text-slate-500">{term}</dt>
          <dd className="min-w-0 text-slate-900">{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A labelled section with a heading; `id` names it for assistive technology. */
export function Section({
  id,
  title,
  actions,
  children,
  className,
}: {
  id: string;
  title: string;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  return (
    <section
      aria-labelledby={id}
      className={cn(
        "flex min-w-0 flex-col gap-3 rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200 sm:p-5",
        className,
      )}
    >
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id={id} className="font-semibold text-slate-900">
          {title}
        </h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

/** Waits `ms` after the last change before passing a value on (search boxes). */
export function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

/**
 * A search box's text kept in step with the URL: typing updates the URL after a pause, and a URL change
 * from elsewhere (Back, a link) updates the box.
 */
export function useUrlSearchTerm(urlValue: string, onChange: (value: string) => void, ms = 300) {
  const [term, setTerm] = useState(urlValue);
  const lastSent = useRef(urlValue);
  const debounced = useDebounced(term.trim(), ms);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;
  useEffect(() => {
    if (urlValue !== lastSent.current) {
      lastSent.current = urlValue;
      setTerm(urlValue);
    }
  }, [urlValue]);
  useEffect(() => {
    if (debounced !== lastSent.current) {
      lastSent.current = debounced;
      onChangeRef.current(debounced);
    }
  }, [debounced]);
  return [term, setTerm] as const;
}
