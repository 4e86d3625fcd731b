// Small charts drawn as plain SVG (no chart library). Each is a <figure> with a caption, an SVG with a
// one-sentence summary for screen readers, and the exact numbers in a table behind "Show the numbers".
import { cn, ScrollArea } from "@minutely/ui";
import { type ReactNode, useLayoutEffect, useRef, useState } from "react";
import { formatAmount, formatDate, formatMonth, formatNumber } from "../lib/format.ts";
import { type Column, DataTable } from "./list.tsx";

/** The width the chart has on screen, so text keeps its size on phones (the SVG is never scaled). */
function useWidth(initial = 640) {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(initial);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    const measure = () => setWidth(Math.max(240, Math.floor(element.getBoundingClientRect().width)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return { ref, width };
}

/** Round axis steps: 1, 2, 5 x 10^n. */
function niceStep(max: number, ticks: number): number {
  if (max <= 0) return 1;
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const scaled = raw / power;
  return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * power;
}

function ChartFigure({
  title,
  summary,
  legend,
  table,
  children,
  id,
}: {
  title: string;
  summary: string;
  legend?: ReactNode;
  table: ReactNode;
  children: (width: number) => ReactNode;
  id: string;
}) {
  const { ref, width } = useWidth();
  return (
    <figure className="flex min-w-0 flex-col gap-2" aria-labelledby={`${id}-caption`}>
      <figcaption id={`${id}-caption`} className="text-sm font-medium text-slate-700">
        {title}
      </figcaption>
      {legend}
      {/* The SVG is drawn at the width measured here; hidden overflow keeps it from widening its box. */}
      <div ref={ref} className="w-full min-w-0 overflow-hidden">
        <svg width={width} height={220} role="img" aria-label={summary} className="block overflow-visible">
          {children(width)}
        </svg>
      </div>
      <details className="text-sm">
        <summary className="cursor-pointer font-medium text-brand-700">Show the numbers</summary>
        <ScrollArea label={`${title}, as numbers`} className="mt-2 max-h-72 overflow-auto">
          {table}
        </ScrollArea>
      </details>
    </figure>
  );
}

function LegendItem({ color, label }: { color: string; label: string }) {
  return (
    <span className="inline-flex items-center gap-1.5 text-xs text-slate-600">
      <span aria-hidden className={cn("inline-block size-3 rounded-sm", color)} />
      {label}
    </span>
  );
}

const PAD = { top: 10, right: 8, bottom: 26, left: 56 };
const HEIGHT = 220;
const AXIS_TEXT = "fill-slate-500 text-[11px]";

/**
 * The value axis: a grid line across the plot (from `left` to `right`) at each tick, labelled at its left.
 * `zeroLine` draws the line at 0 darker, for charts with values below it.
 */
function YAxis({
  ticks,
  y,
  left,
  right,
  label,
  zeroLine = false,
}: {
  ticks: number[];
  y: (value: number) => number;
  left: number;
  right: number;
  label: (value: number) => string;
  zeroLine?: boolean;
}) {
  return ticks.map((t) => (
    <g key={t}>
      <line
        x1={left}
        x2={right}
        y1={y(t)}
        y2={y(t)}
        className={zeroLine && t === 0 ? "stroke-slate-400" : "stroke-slate-200"}
      />
      <text x={left - 6} y={y(t)} dy="0.32em" textAnchor="end" className={AXIS_TEXT}>
        {label(t)}
      </text>
    </g>
  ));
}

/** Label every n-th of `count` bars so that labels stand at least `spacing` pixels apart (two at the least). */
function xLabelStep(count: number, plotWidth: number, spacing: number): number {
  return Math.max(1, Math.ceil(count / Math.max(2, Math.floor(plotWidth / spacing))));
}

/** A label under the plot, centred on `x` (a day or a month). */
function XAxisLabel({ x, children }: { x: number; children: ReactNode }) {
  return (
    <text x={x} y={HEIGHT - 8} textAnchor="middle" className={AXIS_TEXT}>
      {children}
    </text>
  );
}

const DAILY_COLUMNS: Column[] = [
  { label: "Day" },
  { label: "Inbound", className: "text-right" },
  { label: "Outbound", className: "text-right" },
  { label: "Minutes", className: "text-right" },
  { label: "Calls", className: "text-right" },
];

export interface DailyPoint {
  day: string;
  inboundMinutes: number;
  outboundMinutes: number;
  minutes: number;
  calls: number;
}

/** Minutes per UTC day of the billing period, inbound and outbound stacked. */
export function DailyUsageChart({ days, id = "daily-usage" }: { days: DailyPoint[]; id?: string }) {
  const total = days.reduce((sum, d) => sum + d.minutes, 0);
  const busiest = days.reduce<DailyPoint | null>(
    (best, d) => (!best || d.minutes > best.minutes ? d : best),
    null,
  );
  const summary =
    days.length === 0
      ? "No days in this period."
      : `${formatNumber(total)} minutes over ${days.length} days from ${days[0]?.day} to ${days.at(-1)?.day}` +
        (busiest && busiest.minutes > 0
          ? `; the busiest day was ${busiest.day} with ${formatNumber(busiest.minutes)} minutes.`
          : "; no calls yet.");
  const max = Math.max(1, ...days.map((d) => d.minutes));
  const step = niceStep(max, 4);
  const top = Math.ceil(max / step) * step;
  return (
    <ChartFigure
      id={id}
      title="Minutes per day this billing period (UTC)"
      summary={summary}
      legend={
        <div className="flex gap-4">
          <LegendItem color="bg-brand-600" label="Inbound" />
          <LegendItem color="bg-sky-300" label="Outbound" />
        </div>
      }
      table={
        <DataTable
          columns={DAILY_COLUMNS}
          compact="py-1"
          caption="Minutes per day this billing period (UTC), as numbers"
        >
          {days.map((d) => (
            <tr key={d.day} className="border-t border-slate-100">
              <td className="py-1 pr-4">{d.day}</td>
              <td className="py-1 pr-4 text-right tabular-nums">{formatNumber(d.inboundMinutes)}</td>
              <td className="py-1 pr-4 text-right tabular-nums">{formatNumber(d.outboundMinutes)}</td>
              <td className="py-1 pr-4 text-right tabular-nums">{formatNumber(d.minutes)}</td>
              <td className="py-1 text-right tabular-nums">{formatNumber(d.calls)}</td>
            </tr>
          ))}
        </DataTable>
      }
    >
      {(width) => {
        const plotW = width - PAD.left - PAD.right;
        const plotH = HEIGHT - PAD.top - PAD.bottom;
        const slot = plotW / Math.max(1, days.length);
        const bar = Math.max(1, slot * 0.7);
        const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
        const labelEvery = xLabelStep(days.length, plotW, 56);
        const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
        return (
          <g>
            <YAxis ticks={ticks} y={y} left={PAD.left} right={width - PAD.right} label={formatNumber} />
            {days.map((d, i) => {
              const x = PAD.left + i * slot + (slot - bar) / 2;
              return (
                <g key={d.day}>
                  <title>{`${d.day}: ${formatNumber(d.minutes)} minutes (${formatNumber(d.inboundMinutes)} inbound, ${formatNumber(d.outboundMinutes)} outbound), ${formatNumber(d.calls)} calls`}</title>
                  <rect
                    x={x}
                    width={bar}
                    y={y(d.inboundMinutes)}
                    height={y(0) - y(d.inboundMinutes)}
                    className="fill-brand-600"
                  />
                  <rect
                    x={x}
                    width={bar}
                    y={y(d.minutes)}
                    height={y(d.inboundMinutes) - y(d.minutes)}
                    className="fill-sky-300"
                  />
                  {i % labelEvery === 0 ? (
                    <XAxisLabel x={x + bar / 2}>
                      {formatDate(new Date(`${d.day}T00:00:00Z`)).replace(/, \d{4}$/, "")}
                    </XAxisLabel>
                  ) : null}
                </g>
              );
            })}
          </g>
        );
      }}
    </ChartFigure>
  );
}

const MOVEMENT_COLUMNS: Column[] = [
  { label: "Month" },
  { label: "New", className: "text-right" },
  { label: "Expansion", className: "text-right" },
  { label: "Contraction", className: "text-right" },
  { label: "Churn", className: "text-right" },
  { label: "Net", className: "text-right" },
];

export interface MovementPoint {
  month: string;
  newCents: number;
  expansionCents: number;
  contractionCents: number;
  churnCents: number;
  netCents: number;
}

/** MRR movements per month: new and expansion above the axis, contraction and churn below, net as a dot. */
export function MovementsChart({
  months,
  currency,
  id = "mrr-movements",
}: {
  months: MovementPoint[];
  currency: string;
  id?: string;
}) {
  const money = (cents: number) => formatAmount(cents, currency);
  const up = months.map((m) => m.newCents + m.expansionCents);
  const down = months.map((m) => m.contractionCents + m.churnCents);
  const maxUp = Math.max(0, ...up);
  const maxDown = Math.max(0, ...down);
  const step = niceStep(Math.max(maxUp, maxDown, 100), 3);
  const top = Math.max(step, Math.ceil(maxUp / step) * step);
  const bottom = Math.ceil(maxDown / step) * step;
  const totalNet = months.reduce((sum, m) => sum + m.netCents, 0);
  const last = months.at(-1);
  const summary =
    `MRR movements in ${currency.toUpperCase()} over ${months.length} months: net ${money(totalNet)}` +
    (last ? `; in ${formatMonth(last.month, "long")} net ${money(last.netCents)}.` : ".");
  return (
    <ChartFigure
      id={id}
      title={`MRR movements per month (${currency.toUpperCase()})`}
      summary={summary}
      legend={
        <div className="flex flex-wrap gap-x-4 gap-y-1">
          <LegendItem color="bg-emerald-600" label="New" />
          <LegendItem color="bg-emerald-300" label="Expansion (upgrades)" />
          <LegendItem color="bg-amber-400" label="Contraction (downgrades)" />
          <LegendItem color="bg-red-600" label="Churn" />
          <LegendItem color="bg-slate-900 rounded-full" label="Net" />
        </div>
      }
      table={
        <DataTable
          columns={MOVEMENT_COLUMNS}
          compact="py-1"
          caption={`MRR movements per month (${currency.toUpperCase()}), as numbers`}
        >
          {months.map((m) => (
            <tr key={m.month} className="border-t border-slate-100">
              <td className="py-1 pr-4 whitespace-nowrap">{formatMonth(m.month, "long")}</td>
              <td className="py-1 pr-4 text-right tabular-nums">{money(m.newCents)}</td>
              <td className="py-1 pr-4 text-right tabular-nums">{money(m.expansionCents)}</td>
              <td className="py-1 pr-4 text-right tabular-nums">{money(-m.contractionCents)}</td>
              <td className="py-1 pr-4 text-right tabular-nums">{money(-m.churnCents)}</td>
              <td className="py-1 text-right font-medium tabular-nums">{money(m.netCents)}</td>
            </tr>
          ))}
        </DataTable>
      }
    >
      {(width) => {
        const left = 72;
        const plotW = width - left - PAD.right;
        const plotH = HEIGHT - PAD.top - PAD.bottom;
        const y = (v: number) => PAD.top + ((top - v) / (top + bottom)) * plotH;
        const slot = plotW / Math.max(1, months.length);
        const bar = Math.max(2, Math.min(36, slot * 0.6));
        const ticks: number[] = [];
        for (let t = -bottom; t <= top; t += step) ticks.push(t);
        const labelEvery = xLabelStep(months.length, plotW, 48);
        const compact = (cents: number) => {
          const major = Math.abs(cents) / 100;
          const text =
            major >= 1_000_000
              ? `${(major / 1_000_000).toFixed(1)}M`
              : major >= 1000
                ? `${(major / 1000).toFixed(major >= 10_000 ? 0 : 1)}k`
                : `${major.toFixed(0)}`;
          return `${cents < 0 ? "−" : ""}${text}`;
        };
        return (
          <g>
            <YAxis ticks={ticks} y={y} left={left} right={width - PAD.right} label={compact} zeroLine />
            {months.map((m, i) => {
              const x = left + i * slot + (slot - bar) / 2;
              const segments: [number, number, string][] = [
                [0, m.newCents, "fill-emerald-600"],
                [m.newCents, m.newCents + m.expansionCents, "fill-emerald-300"],
                [0, -m.contractionCents, "fill-amber-400"],
                [-m.contractionCents, -m.contractionCents - m.churnCents, "fill-red-600"],
              ];
              return (
                <g key={m.month}>
                  <title>{`${formatMonth(m.month, "long")}: new ${money(m.newCents)}, expansion ${money(m.expansionCents)}, contraction ${money(-m.contractionCents)}, churn ${money(-m.churnCents)}, net ${money(m.netCents)}`}</title>
                  {segments.map(([from, to, color]) =>
                    from === to ? null : (
                      <rect
                        key={color}
                        x={x}
                        width={bar}
                        y={Math.min(y(from), y(to))}
                        height={Math.abs(y(from) - y(to))}
                        className={color}
                      />
                    ),
                  )}
                  <circle
                    cx={x + bar / 2}
                    cy={y(m.netCents)}
                    r={3.5}
                    className="fill-slate-900 stroke-white"
                  />
                  {i % labelEvery === 0 ? (
                    <XAxisLabel x={x + bar / 2}>{formatMonth(m.month)}</XAxisLabel>
                  ) : null}
                </g>
              );
            })}
          </g>
        );
      }}
    </ChartFigure>
  );
}

/** Horizontal bars with their value written next to them (subscribers per package). */
export function HorizontalBars({
  title,
  items,
  unit,
}: {
  title: string;
  items: { label: string; value: number; detail?: string | undefined }[];
  unit: { one: string; other: string };
}) {
  const max = Math.max(1, ...items.map((i) => i.value));
  return (
    <figure className="flex flex-col gap-2">
      <figcaption className="text-sm font-medium text-slate-700">{title}</figcaption>
      <ul className="flex flex-col gap-2">
        {items.map((item) => (
          <li
            key={item.label}
            className="grid grid-cols-[minmax(3.5rem,7rem)_minmax(0,1fr)_auto] items-center gap-3 text-sm"
          >
            <span className="truncate text-slate-700" title={item.label}>
              {item.label}
            </span>
            <svg aria-hidden className="h-4 w-full" viewBox="0 0 100 10" preserveAspectRatio="none">
              <rect x={0} y={0} width={100} height={10} rx={2} className="fill-slate-100" />
              <rect
                x={0}
                y={0}
                width={(item.value / max) * 100}
                height={10}
                rx={2}
                className="fill-brand-600"
              />
            </svg>
            <span className="text-right whitespace-nowrap tabular-nums">
              {formatNumber(item.value)} {item.value === 1 ? unit.one : unit.other}
              {item.detail ? <span className="block text-xs text-slate-500">{item.detail}</span> : null}
            </span>
          </li>
        ))}
      </ul>
    </figure>
  );
}
