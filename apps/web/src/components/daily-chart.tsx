// A small bar chart of minutes per UTC day, in plain SVG (no chart library: it keeps the bundle small).
// Accessible: the SVG is one image with a summary label, each bar has a tooltip, and the numbers are a
// real table behind a keyboard-operable disclosure.
import { cn, ScrollArea } from "@minutely/ui";
import { formatNumber } from "../lib/format.ts";

export interface DayPoint {
  day: string;
  minutes: number;
  calls: number;
  inboundMinutes: number;
  outboundMinutes: number;
}

const BAR = 10;
const HEIGHT = 100;

/** "Nov 10" for "2026-11-10" (days are UTC). */
export function shortDay(day: string): string {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString("en-US", {
    month: "short",
    day: "numeric",
    timeZone: "UTC",
  });
}

/** A round axis maximum at or above `max` (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten). */
export function niceMax(max: number): number {
  if (max <= 0) return 10;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    if (step * power >= max) return step * power;
  }
  return 10 * power;
}

export function DailyChart({
  days,
  title = "Minutes per day",
  byDirection = false,
  today,
}: {
  days: readonly DayPoint[];
  title?: string;
  /** Stack inbound and outbound minutes (with a legend) instead of one bar per day. */
  byDirection?: boolean;
  /** Today's UTC day key: later days are drawn as not yet happened. */
  today?: string;
}) {
  const total = days.reduce((sum, d) => sum + d.minutes, 0);
  const busiest = days.reduce<DayPoint | null>(
    (best, d) => (best && best.minutes >= d.minutes ? best : d),
    null,
  );
  const top = niceMax(busiest?.minutes ?? 0);
  const first = days[0]?.day;
  const last = days.at(-1)?.day;
  const summary =
    total === 0
      ? `${title}: no calls yet this period.`
      : `${title} from ${first ? shortDay(first) : ""} to ${last ? shortDay(last) : ""}: ${formatNumber(total)} minutes in total, the busiest day ${busiest ? `${shortDay(busiest.day)} with ${formatNumber(busiest.minutes)} minutes` : ""}.`;
  const scale = (minutes: number) => (minutes / top) * HEIGHT;
  return (
    <figure className="space-y-2">
      <figcaption className="flex flex-wrap items-baseline justify-between gap-2">
        <span className="font-semibold">{title}</span>
        {byDirection ? (
          <span className="flex gap-3 text-xs text-slate-600" aria-hidden>
            <span className="flex items-center gap-1">
              <span className="size-2.5 rounded-sm bg-brand-700" /> Inbound
            </span>
            <span className="flex items-center gap-1">
              <span className="size-2.5 rounded-sm bg-sky-400" /> Outbound
            </span>
          </span>
        ) : null}
      </figcaption>
      <div className="relative">
        <span className="absolute top-0 left-0 text-[10px] leading-none text-slate-500" aria-hidden>
          {formatNumber(top)} min
        </span>
        <svg
          viewBox={`0 0 ${Math.max(days.length, 1) * BAR} ${HEIGHT}`}
          preserveAspectRatio="none"
          className="block h-36 w-full pt-3"
          role="img"
          aria-label={summary}
        >
          <line
            x1={0}
            x2={days.length * BAR}
            y1={HEIGHT / 2}
            y2={HEIGHT / 2}
            className="stroke-slate-200"
            strokeWidth={0.5}
            vectorEffect="non-scaling-stroke"
          />
          <line
            x1={0}
            x2={days.length * BAR}
            y1={HEIGHT}
            y2={HEIGHT}
            className="stroke-slate-300"
            strokeWidth={1}
            vectorEffect="non-scaling-stroke"
          />
          {days.map((d, i) => {
            const future = today !== undefined && d.day > today;
            const x = i * BAR + 1.5;
            const label = `${shortDay(d.day)}: ${formatNumber(d.minutes)} minutes, ${formatNumber(d.calls)} calls`;
            if (d.minutes === 0) {
              return (
                <rect
                  key={d.day}
                  x={x}
                  width={BAR - 3}
                  y={HEIGHT - 1.5}
                  height={1.5}
                  className={future ? "fill-slate-100" : "fill-slate-300"}
                >
                  <title>{future ? `${shortDay(d.day)}: not yet` : label}</title>
                </rect>
              );
            }
            if (!byDirection) {
              return (
                <rect
                  key={d.day}
                  x={x}
                  width={BAR - 3}
                  y={HEIGHT - scale(d.minutes)}
                  height={scale(d.minutes)}
                  rx={1}
                  className="fill-brand-500"
                >
                  <title>{label}</title>
                </rect>
              );
            }
            const inbound = scale(d.inboundMinutes);
            const outbound = scale(d.outboundMinutes);
            return (
              <g key={d.day}>
                <title>{`${label} (${formatNumber(d.inboundMinutes)} inbound, ${formatNumber(d.outboundMinutes)} outbound)`}</title>
                <rect
                  x={x}
                  width={BAR - 3}
                  y={HEIGHT - inbound}
                  height={inbound}
                  className="fill-brand-700"
                />
                <rect
                  x={x}
                  width={BAR - 3}
                  y={HEIGHT - inbound - outbound}
                  height={outbound}
                  className="fill-sky-400"
                />
              </g>
            );
          })}
        </svg>
        {total === 0 ? (
          <p className="absolute inset-0 flex items-center justify-center text-sm text-slate-500" aria-hidden>
            No calls yet this period
          </p>
        ) : null}
      </div>
      <div className="flex justify-between text-xs text-slate-500" aria-hidden>
        <span>{first ? shortDay(first) : ""}</span>
        <span>{last ? shortDay(last) : ""}</span>
      </div>
      <details className="group text-sm">
        <summary className="cursor-pointer rounded text-brand-700 underline-offset-2 hover:underline">
          Show the numbers
        </summary>
        <ScrollArea label={title} className="mt-2 max-h-64 overflow-auto">
          <table className="w-full text-left text-sm">
            <caption className="sr-only">{title}</caption>
            <thead>
              <tr className="text-slate-500">
                <th scope="col" className="py-1 pr-4 font-medium">
                  Day
                </th>
                <th scope="col" className="py-1 pr-4 text-right font-medium">
                  Calls
                </th>
                {byDirection ? (
                  <>
                    <th scope="col" className="py-1 pr-4 text-right font-medium">
                      Inbound
                    </th>
                    <th scope="col" className="py-1 pr-4 text-right font-medium">
                      Outbound
                    </th>
                  </>
                ) : null}
                <th scope="col" className="py-1 text-right font-medium">
                  Minutes
                </th>
              </tr>
            </thead>
            <tbody>
              {days.map((d) => (
                <tr
                  key={d.day}
                  className={cn("border-t border-slate-100", d.minutes === 0 && "text-slate-500")}
                >
                  <th scope="row" className="py-1 pr-4 font-normal">
                    {shortDay(d.day)}
                  </th>
                  <td className="py-1 pr-4 text-right">{formatNumber(d.calls)}</td>
                  {byDirection ? (
                    <>
                      <td className="py-1 pr-4 text-right">{formatNumber(d.inboundMinutes)}</td>
                      <td className="py-1 pr-4 text-right">{formatNumber(d.outboundMinutes)}</td>
                    </>
                  ) : null}
                  <td className="py-1 text-right">{formatNumber(d.minutes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollArea>
      </details>
    </figure>
  );
}
