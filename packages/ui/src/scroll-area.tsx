import { type ReactNode, useCallback, useEffect, useRef, useState } from "react";
import { cn } from "./cn.ts";

/**
 * A box that scrolls its content (a wide table, a long JSON payload) as a named region. While its content
 * overflows it takes keyboard focus (tabIndex 0), so keyboard users can scroll it with the arrow keys
 * (WCAG 2.1.1; axe's scrollable-region-focusable); while everything fits it is no extra tab stop.
 */
export function ScrollArea({
  label,
  className,
  children,
}: {
  /** Names the region for screen readers ("Monthly revenue table", "Event payload (JSON)"). */
  label: string;
  className?: string;
  children: ReactNode;
}) {
  const ref = useRef<HTMLElement>(null);
  const [overflows, setOverflows] = useState(false);
  const measure = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    setOverflows(el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1);
  }, []);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    for (const child of Array.from(el.children)) observer.observe(child);
    return () => observer.disconnect();
  }, [measure]);
  return (
    // A <section> with a name is a region landmark.
    <section
      ref={ref}
      aria-label={label}
      tabIndex={overflows ? 0 : undefined}
      className={cn(
        // relative: visually hidden (absolutely positioned) text inside scrolls and clips with the content
        // instead of widening the page.
        "relative focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-brand-600",
        className,
      )}
    >
      {children}
    </section>
  );
}
