import { Banner } from "./feedback.tsx";

/** What the list shows of a usage alert (the alerts.list and dashboard.get rows have more). */
export interface UsageAlert {
  id: string;
  /**
   * "threshold": a percentage of the included minutes was reached; "spend_cap": of the overage budget (urgent
   * at 100%); any other kind is shown as urgent.
   */
  kind: string;
  thresholdPercent: number;
  message: string;
}

/**
 * The customer's open usage alerts, one banner each with a Dismiss button (named after its alert, since
 * several can be open at once). Renders nothing when there are none.
 */
export function UsageAlertList({
  alerts,
  dismiss,
}: {
  alerts: readonly UsageAlert[];
  /** The alerts.dismiss mutation (useIntentMutation): while one is sent the buttons are disabled. */
  dismiss: { mutate: (input: { id: string }) => void; isPending: boolean };
}) {
  if (alerts.length === 0) return null;
  return (
    <section aria-label="Usage alerts" className="space-y-2">
      {alerts.map((alert) => (
        <Banner
          key={alert.id}
          tone={
            alert.kind === "threshold" || (alert.kind === "spend_cap" && alert.thresholdPercent < 100)
              ? "warning"
              : "danger"
          }
          title={
            alert.kind === "spend_cap"
              ? alert.thresholdPercent >= 100
                ? "Overage budget used up"
                : `${alert.thresholdPercent}% of your overage budget used`
              : `${alert.thresholdPercent}% of your included minutes used`
          }
        >
          <p>{alert.message}</p>
          <button
            type="button"
            className="mt-1 font-medium underline"
            disabled={dismiss.isPending}
            onClick={() => dismiss.mutate({ id: alert.id })}
            aria-label={`Dismiss the ${alert.thresholdPercent}%${alert.kind === "spend_cap" ? " overage budget" : ""} alert`}
          >
            Dismiss
          </button>
        </Banner>
      ))}
    </section>
  );
}
