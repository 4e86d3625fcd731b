export { AXE_TAGS, type AxeFinding, axeFindings, expectAccessible, formatFindings } from "./axe.ts";
export { ensureChromium, findChromium, launchBrowser, screenshot, screenshotPdf } from "./browser.ts";
export { type RunningEmulator, startStripeEmulatorProcess } from "./emulator.ts";
export { stripeEmulatorUrl } from "./inject.ts";
export { REPO_ROOT, SCREENSHOT_DIR } from "./paths.ts";
export { seededRandom } from "./random.ts";
export { type Stack, type StackOptions, startStack } from "./stack.ts";
export { declaredRoutes, startViteDevServer, testViteDevServer, type ViteDevServer } from "./vite-dev.ts";
export { testBrowser, testStack } from "./vitest.ts";
