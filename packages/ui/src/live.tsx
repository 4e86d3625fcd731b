// Live updates of both SPAs: one tRPC subscription (server-sent events) tells the app when what it shows
// changed, and the app re-reads its queries (TanStack Query invalidation). Whenever the stream is not live
// (refused at a limit, dropped, closed for being idle, or the server says changes cannot be heard), the app
// polls those queries instead; when the stream is back it resumes from the last event id and re-reads once,
// so nothing that happened meanwhile is missed.
import { type QueryFilters, useQueryClient } from "@tanstack/react-query";
import { createContext, type ReactNode, useContext, useEffect, useRef, useState } from "react";
import { httpStatusOf } from "./trpc.ts";

/** connecting: not live yet; live: changes arrive by themselves; polling: re-read every few seconds. */
export type LiveMode = "connecting" | "live" | "polling";

/** What every live stream sends (the message's other fields are the app's own). */
export interface LiveMessageBase {
  status: "live" | "poll" | "idle";
}

export interface LiveHandlers<T> {
  onData: (message: { id: string; data: T }) => void;
  onError: (error: unknown) => void;
  onComplete: () => void;
  onConnectionStateChange: (state: { state: "idle" | "connecting" | "pending"; error: unknown }) => void;
}

export interface LiveOptions<T extends LiveMessageBase> {
  /** Opens the app's subscription from `lastEventId` (the client's `subscribe` of the procedure). */
  subscribe: (lastEventId: string | undefined, handlers: LiveHandlers<T>) => { unsubscribe: () => void };
  /**
   * The queries to re-read when something changed (and to poll while not live): a list, or the list for a
   * message and why it came. `first`: the stream's first message (the page may have just read the same
   * state); `resumed`: live again after polling or a dropped connection; `change`: a change while live;
   * `poll`: polling (no message).
   */
  refresh:
    | readonly QueryFilters[]
    | ((data: T | null, reason: "first" | "resumed" | "change" | "poll") => readonly QueryFilters[]);
  /** Re-reads at most this often (a busy admin app hears every account's calls). Default 0. */
  minRefreshMs?: number;
  /** Told every message (tests and indicators). */
  onMessage?: (data: T) => void;
  /** Polling interval while not live. Default 5 s. */
  pollMs?: number;
  /** Wait before opening the stream again after it was refused or failed. Default 30 s. */
  retryMs?: number;
}

export const DEFAULT_LIVE_POLL_MS = 5_000;

export function useLiveUpdates<T extends LiveMessageBase>(options: LiveOptions<T>): LiveMode {
  const queryClient = useQueryClient();
  const [mode, setMode] = useState<LiveMode>("connecting");
  const latest = useRef(options);
  latest.current = options;

  useEffect(() => {
    let lastEventId: string | undefined;
    let subscription: { unsubscribe: () => void } | null = null;
    let pollTimer: ReturnType<typeof setInterval> | null = null;
    let retryTimer: ReturnType<typeof setTimeout> | null = null;
    let idleClosed = false;
    let stopped = false;
    let first = true;
    const pollMs = latest.current.pollMs ?? DEFAULT_LIVE_POLL_MS;
    const retryMs = latest.current.retryMs ?? 30_000;

    const minRefreshMs = latest.current.minRefreshMs ?? 0;
    let lastRefreshAt = 0;
    let pendingRefresh: ReturnType<typeof setTimeout> | null = null;
    let pendingFilters = new Set<QueryFilters>();
    const flush = () => {
      pendingRefresh = null;
      lastRefreshAt = Date.now();
      const filters = [...pendingFilters];
      pendingFilters = new Set();
      for (const filter of filters) void queryClient.invalidateQueries(filter);
    };
    const refresh = (data: T | null, reason: "first" | "resumed" | "change" | "poll") => {
      const { refresh: which } = latest.current;
      const filters = typeof which === "function" ? which(data, reason) : which;
      if (filters.length === 0) return;
      for (const filter of filters) pendingFilters.add(filter);
      if (pendingRefresh) return;
      const wait = lastRefreshAt + minRefreshMs - Date.now();
      if (wait <= 0) flush();
      else pendingRefresh = setTimeout(flush, wait);
    };
    const startPolling = () => {
      setMode("polling");
      if (pollTimer) return;
      refresh(null, "poll");
      pollTimer = setInterval(() => refresh(null, "poll"), pollMs);
    };
    const stopPolling = () => {
      if (pollTimer) clearInterval(pollTimer);
      pollTimer = null;
    };
    const close = () => {
      subscription?.unsubscribe();
      subscription = null;
    };
    const retryLater = () => {
      if (stopped || retryTimer) return;
      retryTimer = setTimeout(() => {
        retryTimer = null;
        open();
      }, retryMs);
    };
    const open = () => {
      if (stopped) return;
      close();
      idleClosed = false;
      subscription = latest.current.subscribe(lastEventId, {
        onData: ({ id, data }) => {
          // The first message of a resumed stream repeats the last state seen when nothing changed.
          const unchanged = id === lastEventId;
          lastEventId = id;
          latest.current.onMessage?.(data);
          if (data.status === "live") {
            // After polling or a dropped connection anything may have changed; otherwise what the message says.
            const reason = first ? "first" : pollTimer !== null ? "resumed" : "change";
            first = false;
            stopPolling();
            setMode("live");
            if (!unchanged) refresh(data, reason);
          } else if (data.status === "poll") {
            startPolling();
          } else {
            // Closed for being idle: poll, and open it again when the user is back.
            idleClosed = true;
            startPolling();
          }
        },
        onError: (error) => {
          // Refused at a limit (429), or failed: poll, and try again later. Signed out (401), not allowed
          // (403) or live updates off on this server (501) do not change by trying again.
          subscription = null;
          startPolling();
          if (![401, 403, 501].includes(httpStatusOf(error) ?? 0)) retryLater();
        },
        onComplete: () => {
          subscription = null;
          startPolling();
          if (!idleClosed) retryLater();
        },
        onConnectionStateChange: ({ state, error }) => {
          // The connection dropped: the browser reconnects by itself (with Last-Event-Id); poll meanwhile.
          if (state === "connecting" && error) startPolling();
        },
      });
    };
    const onBack = () => {
      if (document.visibilityState !== "visible" || !idleClosed) return;
      open();
    };
    document.addEventListener("visibilitychange", onBack);
    window.addEventListener("focus", onBack);
    window.addEventListener("pointerdown", onBack);
    window.addEventListener("keydown", onBack);
    open();
    return () => {
      stopped = true;
      document.removeEventListener("visibilitychange", onBack);
      window.removeEventListener("focus", onBack);
      window.removeEventListener("pointerdown", onBack);
      window.removeEventListener("keydown", onBack);
      if (retryTimer) clearTimeout(retryTimer);
      if (pendingRefresh) clearTimeout(pendingRefresh);
      stopPolling();
      close();
    };
  }, [queryClient]);

  return mode;
}

const LiveModeContext = createContext<LiveMode | null>(null);

/** Runs the app's live updates for everything below it; `LiveStatus` shows their mode. */
export function LiveUpdates<T extends LiveMessageBase>({
  children,
  ...options
}: LiveOptions<T> & { children: ReactNode }) {
  const mode = useLiveUpdates(options);
  useEffect(() => {
    document.documentElement.dataset.liveMode = mode;
  }, [mode]);
  return <LiveModeContext.Provider value={mode}>{children}</LiveModeContext.Provider>;
}

export function useLiveMode(): LiveMode | null {
  return useContext(LiveModeContext);
}

/** A small note of how the page stays current: "Live" or "Refreshing every 5 seconds". */
export function LiveStatus({ className }: { className?: string }) {
  const mode = useLiveMode();
  if (!mode || mode === "connecting") return null;
  return (
    <span
      data-testid="live-status"
      className={`inline-flex items-center gap-1.5 text-xs font-medium ${mode === "live" ? "text-emerald-800" : "text-slate-600"} ${className ?? ""}`}
    >
      <span
        aria-hidden
        className={`size-2 rounded-full ${mode === "live" ? "bg-emerald-600" : "bg-slate-400"}`}
      />
      {mode === "live" ? "Live" : `Refreshing every ${Math.round(DEFAULT_LIVE_POLL_MS / 1000)} seconds`}
    </span>
  );
}
