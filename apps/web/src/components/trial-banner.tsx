// Free trials: near the end of a trial without a card, and once a trial ended without one (Stripe paused the
// subscription), the authed layout asks for a card. "Add a card" is Checkout in setup mode; the card becomes
// the subscription's default, and a subscription the trial's end paused resumes with it.
import { Banner, Button, useIntentMutation } from "@minutely/ui";
import { useQuery } from "@tanstack/react-query";
import { formatDate } from "../lib/format.ts";
import { trpc } from "../lib/trpc.ts";

export function TrialBanner() {
  const overview = useQuery(trpc.subscription.overview.queryOptions());
  const addCard = useIntentMutation(
    trpc.subscription.updatePaymentMethod.mutationOptions({
      onSuccess: (session) => window.location.assign(session.url),
    }),
  );
  const sub = overview.data;
  if (!sub) return null;
  // Stripe's status paused without a collection pause: a trial that ended without a card.
  const endedWithoutCard = sub.status === "paused" && sub.pause === null;
  const endingWithoutCard = sub.trial?.endingSoon === true && !sub.trial.cardOnFile;
  if (!endedWithoutCard && !endingWithoutCard) return null;
  const action = (
    <>
      <Button
        className="mt-2"
        variant={endedWithoutCard ? "danger" : "primary"}
        disabled={addCard.isPending}
        onClick={() => addCard.mutate({})}
      >
        {addCard.isPending ? "Opening secure page…" : "Add a card"}
      </Button>
      {addCard.isError ? <p className="mt-2">{addCard.error.message}</p> : null}
    </>
  );
  return endedWithoutCard ? (
    <Banner tone="danger" title="Your free trial has ended">
      <p>Your subscription is paused and calls are stopped. Add a card to resume it.</p>
      {action}
    </Banner>
  ) : (
    <Banner tone="warning" title={`Your free trial ends on ${formatDate(sub.trial?.endsAt)}`}>
      <p>
        Add a card to keep your calls running after the trial; without one your subscription pauses then.
        Nothing is charged before the trial ends.
      </p>
      {action}
    </Banner>
  );
}
