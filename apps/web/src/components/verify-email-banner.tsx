// An unverified address: the authed layout says so on every page (buying needs a verified address) and
// offers a new link. Its own module, like the payment banner.
import { AuthError, Banner, Button, sendVerificationEmail } from "@minutely/ui";
import { useQuery } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { trpc } from "../lib/trpc.ts";

export function VerifyEmailBanner() {
  const me = useQuery(trpc.auth.me.queryOptions());
  const [state, setState] = useState<"idle" | "sending" | "sent" | { error: string }>("idle");
  const busy = useRef(false);
  const user = me.data?.user;
  if (user?.emailVerified !== false) return null; // signed out, verified, or not known
  const send = async () => {
    if (busy.current) return;
    busy.current = true;
    setState("sending");
    try {
      await sendVerificationEmail({ email: user.email });
      setState("sent");
    } catch (error) {
      setState({ error: error instanceof AuthError ? error.message : "Could not send the link. Try again." });
    } finally {
      busy.current = false;
    }
  };
  return (
    <Banner tone="warning" title="Confirm your email address">
      <p>
        We mailed a link to <strong>{user.email}</strong>. You can use Minutely meanwhile, but buying a
        package needs a confirmed address.
      </p>
      {state === "sent" ? (
        <p className="mt-2">A new link is on its way. It works for 24 hours.</p>
      ) : (
        <Button className="mt-2" variant="secondary" disabled={state === "sending"} onClick={send}>
          {state === "sending" ? "Sending…" : "Send a new link"}
        </Button>
      )}
      {typeof state === "object" ? <p className="mt-2">{state.error}</p> : null}
    </Banner>
  );
}
