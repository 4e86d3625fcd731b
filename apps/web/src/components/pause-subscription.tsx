// Pausing the subscription from the Billing page: 1-3 billing periods or until resumed, starting at the end of
// the period already paid; while a pause is set, when it starts, when it resumes, and "Resume now".
import type { AppRouter } from "@minutely/api";
import { Banner, Button, useIntentMutation } from "@minutely/ui";
import { useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { useState } from "react";
import { formatDate } from "../lib/format.ts";
import { trpc } from "../lib/trpc.ts";

type Overview = inferRouterOutputs<AppRouter>["subscription"]["overview"];

const LENGTHS = [
  { value: "1", label: "1 billing period" },
  { value: "2", label: "2 billing periods" },
  { value: "3", label: "3 billing periods" },
  { value: "until", label: "Until I resume" },
] as const;

/** "Paused until …" / "Pause starts …" wording shared with the dashboard. */
export function pauseSummary(pause: NonNullable<Overview["pause"]>): string {
  const resumes = pause.resumesAt
    ? `resumes on ${formatDate(pause.resumesAt)}`
    : "resumes when you resume it";
  return pause.paused
    ? `Paused: no calls and no charges; ${resumes}.`
    : `Pause starts on ${formatDate(pause.startsAt)} (the end of the period you paid for); ${resumes}.`;
}

export function PauseSubscription({ sub }: { sub: Overview }) {
  const queryClient = useQueryClient();
  const refresh = { onSuccess: () => queryClient.invalidateQueries() };
  const pause = useIntentMutation(trpc.subscription.pause.mutationOptions(refresh));
  const resume = useIntentMutation(trpc.subscription.resumePause.mutationOptions(refresh));
  const [length, setLength] = useState<(typeof LENGTHS)[number]["value"]>("1");
  const failure = pause.error ?? resume.error;

  if (sub.pause) {
    return (
      <div className="flex flex-wrap items-center gap-3 rounded-md bg-amber-50 p-3" data-testid="pause">
        <p>{pauseSummary(sub.pause)}</p>
        <Button disabled={resume.isPending} onClick={() => resume.mutate()}>
          {resume.isPending ? "Resuming…" : "Resume now"}
        </Button>
        {failure ? <Banner tone="danger">{failure.message}</Banner> : null}
      </div>
    );
  }
  if (sub.status !== "active" || sub.cancelAtPeriodEnd || sub.scheduledChange) return null;
  return (
    <div className="flex flex-wrap items-end gap-3 rounded-md bg-slate-50 p-3" data-testid="pause-form">
      <label className="flex flex-col gap-1 text-sm font-medium text-slate-700">
        Pause for
        <select
          className="rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm font-normal"
          value={length}
          onChange={(event) => setLength(event.target.value as typeof length)}
        >
          {LENGTHS.map((l) => (
            <option key={l.value} value={l.value}>
              {l.label}
            </option>
          ))}
        </select>
      </label>
      <Button
        variant="secondary"
        disabled={pause.isPending}
        onClick={() => pause.mutate({ periods: length === "until" ? null : (Number(length) as 1 | 2 | 3) })}
      >
        {pause.isPending ? "Pausing…" : "Pause subscription"}
      </Button>
      <p className="basis-full text-xs text-slate-500">
        You keep the period you paid for (until {formatDate(sub.currentPeriodEnd)}). While paused, calls are
        refused and nothing is charged; resume early whenever you like.
      </p>
      {failure ? <Banner tone="danger">{failure.message}</Banner> : null}
    </div>
  );
}
