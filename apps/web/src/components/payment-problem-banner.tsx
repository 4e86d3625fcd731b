// Past due or unpaid: the authed layout shows this on every page. Its own module, so the layout does not
// pull the billing page (and its dialog) into the first route's bundle.
import { Banner, Button, useIntentMutation } from "@minutely/ui";
import { useQuery } from "@tanstack/react-query";
import { trpc } from "../lib/trpc.ts";

/** Past due or unpaid: say so and offer to replace the card (Checkout in setup mode). */
export function PaymentProblemBanner() {
  const overview = useQuery(trpc.subscription.overview.queryOptions());
  const fix = useIntentMutation(
    trpc.subscription.updatePaymentMethod.mutationOptions({
      onSuccess: (session) => window.location.assign(session.url),
    }),
  );
  if (!overview.data?.needsPaymentAttention) return null;
  return (
    <Banner tone="danger" title="Your last payment failed">
      <p>
        Your subscription is {overview.data.statusLabel.toLowerCase()}. Update your card so your calls keep
        running.
      </p>
      <Button className="mt-2" variant="danger" disabled={fix.isPending} onClick={() => fix.mutate({})}>
        {fix.isPending ? "Opening secure page…" : "Update card"}
      </Button>
      {fix.isError ? <p className="mt-2">{fix.error.message}</p> : null}
    </Banner>
  );
}
