import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type Stripe from "stripe";
import type { EmulatorCore } from "../core.ts";
import { isRecord } from "../spec.ts";
import { emptyState, type State } from "../state.ts";
import { API_VERSION } from "../version.ts";

/** The `stateFile` option: state and events loaded at start, written (debounced) after every change. */
export class StatePersistence {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly core: EmulatorCore,
    private readonly file: string,
  ) {}

  /** Replaces the core's state and events with the file's, if it exists; true when it did. */
  load(): boolean {
    if (!existsSync(this.file)) return false;
    const parsed: unknown = JSON.parse(readFileSync(this.file, "utf8"));
    if (!isRecord(parsed) || !isRecord(parsed.state) || !Array.isArray(parsed.events)) return false;
    this.core.state = { ...emptyState(), ...(parsed.state as Partial<State>) };
    this.core.events = parsed.events as Stripe.Event[];
    return true;
  }

  /** Writes the state 100 ms after the last of a burst of changes. */
  schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const tmp = `${this.file}.tmp`;
      writeFileSync(tmp, this.serialize());
      renameSync(tmp, this.file);
    }, 100);
    this.timer.unref();
  }

  /** Writes a pending change now (on close). */
  flush(): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    writeFileSync(this.file, this.serialize());
  }

  private serialize(): string {
    return JSON.stringify({
      version: 1,
      apiVersion: API_VERSION,
      state: this.core.state,
      events: this.core.events,
    });
  }
}
