import { formatNumber, formatPercent } from "../lib/format.ts";

// A ring gauge of the included minutes used, in plain SVG. Assistive technology reads a native <meter>.
const RADIUS = 52;
const CIRCUMFERENCE = 2 * Math.PI * RADIUS;

/**
 * The percentage's type size by its length, so it stays clear of the ring (whose inside is 110 px across):
 * "83%" is large, "250%" and "83.4%" step down, "1,234.5%" smaller still. The browser test measures it.
 */
export function labelSizeOf(label: string): string {
  if (label.length <= 3) return "text-3xl";
  if (label.length === 4) return "text-2xl";
  if (label.length === 5) return "text-xl";
  return "text-lg";
}

export function toneOf(percentage: number): { ring: string; text: string } {
  if (percentage >= 100) return { ring: "stroke-red-500", text: "text-red-700" };
  if (percentage >= 80) return { ring: "stroke-amber-500", text: "text-amber-700" };
  return { ring: "stroke-brand-600", text: "text-brand-700" };
}

export function UsageGauge({
  percentage,
  used,
  limit,
}: {
  /** One decimal, may exceed 100. */
  percentage: number;
  used: number;
  limit: number;
}) {
  const shown = Math.min(100, Math.max(0, percentage));
  const tone = toneOf(percentage);
  const label = formatPercent(percentage);
  return (
    <div className="relative mx-auto size-36 shrink-0" data-testid="usage-gauge">
      <meter
        className="sr-only"
        aria-label="Included minutes used"
        min={0}
        max={100}
        value={shown}
        aria-valuetext={`${label}: ${formatNumber(used)} of ${formatNumber(limit)} minutes`}
      >
        {label}
      </meter>
      <svg viewBox="0 0 120 120" className="size-full -rotate-90" aria-hidden>
        <circle cx={60} cy={60} r={RADIUS} fill="none" strokeWidth={12} className="stroke-slate-100" />
        <circle
          cx={60}
          cy={60}
          r={RADIUS}
          fill="none"
          strokeWidth={12}
          strokeLinecap={shown > 0 ? "round" : "butt"}
          strokeDasharray={`${(shown / 100) * CIRCUMFERENCE} ${CIRCUMFERENCE}`}
          className={tone.ring}
        />
      </svg>
      <div className="absolute inset-0 flex flex-col items-center justify-center gap-1" aria-hidden>
        <span
          className={`${labelSizeOf(label)} leading-none font-bold tracking-tight whitespace-nowrap tabular-nums ${tone.text}`}
        >
          {label}
        </span>
        <span className="text-xs leading-none text-slate-500">used</span>
      </div>
    </div>
  );
}
