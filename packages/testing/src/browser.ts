// Real Chromium for browser tests: Debian's chromium driven by playwright-core (Playwright cannot
// download its own browsers on these machines). Installs it through apt when missing and running as root.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { axeFindings, formatFindings } from "./axe.ts";
import { SCREENSHOT_DIR } from "./paths.ts";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const configured = env.CHROMIUM_PATH;
  if (configured) return existsSync(configured) ? configured : undefined;
  return CANDIDATES.find((path) => existsSync(path));
}

/** Returns the path of a Chromium binary, installing Debian's package when possible. */
export function ensureChromium(): string {
  const found = findChromium();
  if (found) return found;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot || !existsSync("/usr/bin/apt-get")) {
    throw new Error(
      "Browser tests need Chromium. Install it (Debian/Ubuntu: `sudo apt-get install -y chromium`) " +
        "or set CHROMIUM_PATH to a Chromium/Chrome binary.",
    );
  }
  console.log("Chromium is missing: installing Debian's chromium package (apt-get)…");
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env: aptEnv });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "chromium"], {
    stdio: "inherit",
    env: aptEnv,
  });
  const installed = findChromium();
  if (!installed) throw new Error("apt-get installed chromium, but no binary was found at /usr/bin/chromium");
  return installed;
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = ensureChromium();
  return await chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

/**
 * Waits for the page's CSS transitions and animations to finish (a button fading back from its disabled
 * look was checked mid-fade: colour contrast 3.58-3.62 of a colour that is never at rest), at most 2 s;
 * endless animations (a spinner) are not waited for. Each round first lets two frames pass: a transition
 * exists only once the style change that starts it has been computed (React may have re-enabled the button
 * a moment ago, with no frame since), and a transition that ends may have started another.
 */
async function settled(page: Page): Promise<void> {
  // A string: this package is compiled without the DOM's types; the function runs in the page.
  await page
    .evaluate(`(async () => {
      const deadline = Date.now() + 2000;
      const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
      const frame = () => Promise.race([new Promise((resolve) => requestAnimationFrame(resolve)), pause(50)]);
      for (;;) {
        await frame();
        await frame();
        const finite = document.getAnimations().filter(
          (animation) =>
            animation.playState !== "finished" &&
            animation.effect?.getComputedTiming().endTime !== Number.POSITIVE_INFINITY,
        );
        const left = deadline - Date.now();
        if (finite.length === 0 || left <= 0) return;
        await Promise.race([
          Promise.all(finite.map((animation) => animation.finished.catch(() => undefined))),
          pause(left),
        ]);
      }
    })()`)
    .catch(() => undefined);
}

/**
 * Saves a full-page screenshot under test-results/screenshots (CI keeps that folder), then checks the same
 * page state with axe-core: any violation fails the test, listed rule by rule (see axe.ts). `axe: false`
 * only for states that are not a page of ours (none today).
 */
export async function screenshot(page: Page, name: string, options: { axe?: boolean } = {}): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name.replace(/[^\w.-]+/g, "-")}.png`);
  await settled(page);
  await page.screenshot({ path, fullPage: true });
  if (options.axe !== false) {
    const findings = await axeFindings(page);
    if (findings.length > 0) {
      const report = formatFindings(name, findings);
      // MINUTELY_AXE_REPORT_ONLY=1 lists every state's findings without failing (for an audit run).
      if (process.env.MINUTELY_AXE_REPORT_ONLY === "1") console.warn(report);
      else throw new Error(report);
    }
  }
  return path;
}

const require = createRequire(import.meta.url);

/**
 * Renders a PDF's first page to a PNG as a person would see it: pdf.js (the npm package `pdfjs-dist`, so it
 * installs with the project) draws it on a canvas in the Chromium the browser tests already drive, served
 * from a made-up origin by request interception (no network), and the canvas is screenshotted into the
 * screenshot folder. Returns the PNG's path and the page's text as pdf.js extracted it.
 */
export async function screenshotPdf(
  browser: Browser,
  pdf: Buffer,
  name: string,
): Promise<{ path: string; text: string }> {
  const build = join(dirname(require.resolve("pdfjs-dist/package.json")), "build");
  const page = await browser.newPage({ viewport: { width: 1000, height: 1300 } });
  try {
    const origin = "http://pdf-viewer.test";
    await page.route(`${origin}/**`, async (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === "/document.pdf") return await route.fulfill({ body: pdf, contentType: "application/pdf" });
      if (path === "/pdf.mjs" || path === "/pdf.worker.mjs") {
        return await route.fulfill({
          body: readFileSync(join(build, path.slice(1))),
          contentType: "text/javascript",
        });
      }
      return await route.fulfill({
        contentType: "text/html",
        body: `<!doctype html><html lang="en"><head><title>PDF</title></head><body style="margin:0;background:#cbd5e1">
<main><canvas id="page" aria-label="PDF page 1"></canvas></main>
<script type="module">
import * as pdfjs from "/pdf.mjs";
pdfjs.GlobalWorkerOptions.workerSrc = "/pdf.worker.mjs";
const doc = await pdfjs.getDocument({ url: "/document.pdf" }).promise;
const first = await doc.getPage(1);
const viewport = first.getViewport({ scale: 1.5 });
const canvas = document.getElementById("page");
canvas.width = viewport.width;
canvas.height = viewport.height;
await first.render({ canvasContext: canvas.getContext("2d"), viewport }).promise;
const content = await first.getTextContent();
document.body.dataset.text = content.items.map((item) => item.str).join(" ");
document.body.dataset.rendered = "yes";
</script></body></html>`,
      });
    });
    await page.goto(`${origin}/`);
    await page.waitForSelector("body[data-rendered=yes]", { timeout: 30_000 });
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const path = join(SCREENSHOT_DIR, `${name.replace(/[^\w.-]+/g, "-")}.png`);
    await page.locator("#page").screenshot({ path });
    const text = (await page.locator("body").getAttribute("data-text")) ?? "";
    return { path, text };
  } finally {
    await page.close();
  }
}
