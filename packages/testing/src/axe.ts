// axe-core in the browser tests: every page state a test takes a screenshot of is also checked for WCAG 2.0/2.1
// A and AA and best-practice rules. Serious and critical violations fail the test; so do moderate and minor
// ones (the bar is zero), each listed with the rule, its help text and the elements it found.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Page } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE_SOURCE_PATH = require.resolve("axe-core/axe.min.js");
let axeSource: string | undefined;

/** The rule sets the issue asks for: WCAG 2.0 and 2.1, A and AA, and axe's best practices. */
export const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] as const;

export type AxeImpact = "minor" | "moderate" | "serious" | "critical";

export interface AxeFinding {
  rule: string;
  impact: AxeImpact;
  help: string;
  /** CSS selectors of the offending elements, with axe's summary of each. */
  nodes: { target: string; summary: string }[];
}

interface AxeResultsLike {
  violations: {
    id: string;
    impact?: string | null;
    help: string;
    nodes: { target: unknown[]; failureSummary?: string }[];
  }[];
}

/** Runs axe-core on the page as it is now and returns its violations. */
export async function axeFindings(page: Page): Promise<AxeFinding[]> {
  const loaded = await page.evaluate("typeof window.axe === 'object'");
  // Evaluated over the DevTools protocol: the apps' Content-Security-Policy (script-src 'self') rightly
  // refuses an injected <script>.
  if (!loaded) {
    axeSource ??= readFileSync(AXE_SOURCE_PATH, "utf8");
    await page.evaluate(axeSource);
  }
  const options = { runOnly: { type: "tag", values: AXE_TAGS }, resultTypes: ["violations"] };
  // A string, evaluated in the page (this package is compiled without the DOM's types).
  const results = (await page.evaluate(
    `window.axe.run(document, ${JSON.stringify(options)})`,
  )) as AxeResultsLike;
  return results.violations.map((v) => ({
    rule: v.id,
    impact: (v.impact ?? "minor") as AxeImpact,
    help: v.help,
    nodes: v.nodes.map((n) => ({
      target: n.target.map(String).join(" "),
      summary: (n.failureSummary ?? "").replace(/\s+/g, " ").trim(),
    })),
  }));
}

export function formatFindings(state: string, findings: AxeFinding[]): string {
  const lines = [`axe-core: ${findings.length} violation(s) on "${state}":`];
  for (const f of findings) {
    lines.push(`- [${f.impact}] ${f.rule}: ${f.help}`);
    for (const n of f.nodes.slice(0, 5)) lines.push(`    ${n.target} — ${n.summary}`);
    if (f.nodes.length > 5) lines.push(`    … and ${f.nodes.length - 5} more`);
  }
  return lines.join("\n");
}

/** Fails (throws) when axe finds any violation on the page state; the message lists each. */
export async function expectAccessible(page: Page, state: string): Promise<void> {
  const findings = await axeFindings(page);
  if (findings.length > 0) throw new Error(formatFindings(state, findings));
}
