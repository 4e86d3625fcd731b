// Starts the project's Stripe emulator (apps/stripe-emulator) as a process, for tests. Tests talk to it
// only through the official Stripe SDK and HTTP, exactly as the product does.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "./paths.ts";

export interface RunningEmulator {
  url: string;
  stop(): Promise<void>;
}

export async function startStripeEmulatorProcess(env: Record<string, string> = {}): Promise<RunningEmulator> {
  const tsx = join(REPO_ROOT, "apps/stripe-emulator/node_modules/.bin/tsx");
  const child: ChildProcess = spawn(tsx, [join(REPO_ROOT, "apps/stripe-emulator/src/main.ts")], {
    cwd: join(REPO_ROOT, "apps/stripe-emulator"),
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      STRIPE_EMULATOR_PORT: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the Stripe emulator did not start:\n${output}`)),
      60_000,
    );
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of output.split("\n")) {
        if (!line.startsWith("{")) continue;
        try {
          const event = JSON.parse(line) as { event?: string; url?: string };
          if (event.event === "listening" && event.url) {
            clearTimeout(timer);
            resolve(event.url);
          }
        } catch {
          // a partial line; wait for more
        }
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the Stripe emulator exited with code ${code}:\n${output}`));
    });
  });
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
