// The signed-in user's own settings: where they are signed in (sign out one, or every other) and their
// password (changing it signs out every other session), and the danger zone: deleting the account.
import {
  AuthError,
  Badge,
  Banner,
  Button,
  Card,
  changePassword,
  ErrorState,
  Field,
  fieldErrorsOf,
  Spinner,
  useDocumentTitle,
  useIntentMutation,
} from "@minutely/ui";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { trpc } from "../lib/trpc.ts";

function formatDateTime(value: Date | string): string {
  return new Date(value).toLocaleString("en-US", {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone: "UTC",
  });
}

function SessionsCard() {
  const queryClient = useQueryClient();
  const sessions = useQuery(trpc.sessions.list.queryOptions());
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.sessions.list.queryKey() });
  const revoke = useIntentMutation(trpc.sessions.revoke.mutationOptions({ onSettled: refresh }));
  const revokeOthers = useIntentMutation(trpc.sessions.revokeOthers.mutationOptions({ onSettled: refresh }));
  const others = sessions.data?.filter((s) => !s.current).length ?? 0;
  return (
    <Card>
      <h2 className="text-lg font-semibold">Where you're signed in</h2>
      <p className="mt-1 text-sm text-slate-600">
        Sign out a device you no longer use or don't recognise. Times are UTC; "last active" is updated about
        once a day.
      </p>
      {sessions.isPending ? <Spinner label="Loading sessions" /> : null}
      {sessions.isError ? <ErrorState error={sessions.error} onRetry={() => sessions.refetch()} /> : null}
      {revoke.isError ? <Banner tone="danger">{revoke.error.message}</Banner> : null}
      {revokeOthers.isSuccess ? (
        <Banner tone="success">
          Signed out {revokeOthers.data.revoked} other{" "}
          {revokeOthers.data.revoked === 1 ? "session" : "sessions"}.
        </Banner>
      ) : null}
      <ul className="mt-4 divide-y divide-slate-200" data-testid="sessions">
        {sessions.data?.map((session) => (
          <li key={session.id} className="flex flex-wrap items-center justify-between gap-3 py-3">
            <div>
              <p className="font-medium">
                {session.device} {session.current ? <Badge tone="success">This device</Badge> : null}
              </p>
              <p className="text-sm text-slate-600">
                {session.ipAddress ?? "Unknown address"} · signed in {formatDateTime(session.signedInAt)} ·
                last active {formatDateTime(session.lastSeenAt)}
              </p>
            </div>
            {session.current ? null : (
              <Button
                variant="secondary"
                disabled={revoke.isPending}
                onClick={() => revoke.mutate({ sessionId: session.id })}
                aria-label={`Sign out ${session.device} (${session.ipAddress ?? "unknown address"})`}
              >
                Sign out
              </Button>
            )}
          </li>
        ))}
      </ul>
      {others > 0 ? (
        <Button
          className="mt-2"
          variant="danger"
          disabled={revokeOthers.isPending}
          onClick={() => revokeOthers.mutate({})}
        >
          {revokeOthers.isPending ? "Signing out…" : "Sign out everywhere else"}
        </Button>
      ) : null}
    </Card>
  );
}

function PasswordCard() {
  const queryClient = useQueryClient();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [state, setState] = useState<"idle" | "saving" | "done" | { error: string; field?: string }>("idle");
  const busy = useRef(false);
  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    if (busy.current) return;
    if (next.length < 8) {
      setState({ error: "Use at least 8 characters.", field: "new" });
      return;
    }
    busy.current = true;
    setState("saving");
    try {
      await changePassword({ currentPassword: current, newPassword: next });
      setCurrent("");
      setNext("");
      setState("done");
      await queryClient.invalidateQueries({ queryKey: trpc.sessions.list.queryKey() });
    } catch (error) {
      const message =
        error instanceof AuthError ? error.message : "Could not change the password. Try again.";
      setState({
        error:
          error instanceof AuthError && error.code === "INVALID_PASSWORD"
            ? "The current password is not right."
            : message,
        field: error instanceof AuthError && error.code === "INVALID_PASSWORD" ? "current" : undefined,
      });
    } finally {
      busy.current = false;
    }
  };
  const problem = typeof state === "object" ? state : null;
  return (
    <Card>
      <h2 className="text-lg font-semibold">Password</h2>
      <p className="mt-1 text-sm text-slate-600">Changing it signs you out on every other device.</p>
      <form onSubmit={submit} noValidate className="mt-4 flex max-w-sm flex-col gap-4">
        {state === "done" ? (
          <Banner tone="success">Password changed. Every other session is signed out.</Banner>
        ) : null}
        {problem && !problem.field ? <Banner tone="danger">{problem.error}</Banner> : null}
        <Field
          id="current-password"
          label="Current password"
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
          error={problem?.field === "current" ? problem.error : undefined}
        />
        <Field
          id="new-password"
          label="New password"
          type="password"
          autoComplete="new-password"
          hint="At least 8 characters."
          value={next}
          onChange={(e) => setNext(e.target.value)}
          error={problem?.field === "new" ? problem.error : undefined}
        />
        <Button type="submit" disabled={state === "saving"}>
          {state === "saving" ? "Saving…" : "Change password"}
        </Button>
      </form>
    </Card>
  );
}

function CompanyCard() {
  const queryClient = useQueryClient();
  const settings = useQuery(trpc.accountSettings.get.queryOptions());
  const [name, setName] = useState("");
  const [billingEmail, setBillingEmail] = useState("");
  useEffect(() => {
    if (!settings.data) return;
    setName(settings.data.name);
    setBillingEmail(settings.data.billingEmail ?? "");
  }, [settings.data]);
  const save = useIntentMutation(
    trpc.accountSettings.update.mutationOptions({
      onSuccess: async (saved) => {
        queryClient.setQueryData(trpc.accountSettings.get.queryKey(), saved);
        await queryClient.invalidateQueries(trpc.auth.me.queryFilter());
      },
    }),
  );
  const fields = fieldErrorsOf(save.error);
  return (
    <Card>
      <h2 className="text-lg font-semibold">Company</h2>
      {settings.isPending ? <Spinner label="Loading settings" /> : null}
      {settings.isError ? <ErrorState error={settings.error} onRetry={() => settings.refetch()} /> : null}
      {settings.data ? (
        <form
          noValidate
          className="mt-4 flex max-w-sm flex-col gap-4"
          onSubmit={(event) => {
            event.preventDefault();
            save.mutate({ name, billingEmail: billingEmail.trim() === "" ? null : billingEmail.trim() });
          }}
        >
          {save.isSuccess ? (
            <Banner tone="success">Saved. Invoices go to {save.data.invoicesTo}.</Banner>
          ) : null}
          {save.isError && Object.keys(fields).length === 0 ? (
            <Banner tone="danger">{save.error.message}</Banner>
          ) : null}
          <Field
            id="company-name"
            label="Company name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            error={fields.name}
          />
          <Field
            id="billing-email"
            label="Billing email"
            type="email"
            hint={`Invoices and receipts go here. Leave empty to use ${settings.data.billingEmail ? "the owner's address" : settings.data.invoicesTo}.`}
            value={billingEmail}
            onChange={(e) => setBillingEmail(e.target.value)}
            error={fields.billingEmail}
          />
          <Button type="submit" disabled={save.isPending}>
            {save.isPending ? "Saving…" : "Save"}
          </Button>
        </form>
      ) : null}
    </Card>
  );
}

/**
 * Deleting the account (owner only; docs/accounts.md): the company name typed again confirms it. One click
 * is one deletion (one request key per intent); afterwards this browser's session is gone with the account.
 */
type AccountDeletion = { subscriptions: { ends: "period_end" | "now"; endsAt: Date | string | null }[] };

/** What the page shows once the account is deleted (its session is gone with it: nothing else to show). */
function AccountDeletedCard({ deletion }: { deletion: AccountDeletion }) {
  const ends = deletion.subscriptions[0];
  return (
    <Card data-testid="account-deleted">
      <h2 className="text-lg font-semibold">Account deleted</h2>
      <p className="mt-2 text-sm text-slate-700">
        The account is deleted and you are signed out of it; your personal data is removed unless you belong
        to another account.{" "}
        {ends?.ends === "period_end" && ends.endsAt
          ? `Your subscription is not renewed; it ends on ${formatDateTime(ends.endsAt)}.`
          : "Nothing more will be charged."}{" "}
        Invoices are kept for as long as tax law requires.
      </p>
      <Button className="mt-4" variant="secondary" onClick={() => window.location.assign("/")}>
        Done
      </Button>
    </Card>
  );
}

function DangerZoneCard({ onDeleted }: { onDeleted: (deletion: AccountDeletion) => void }) {
  const me = useQuery(trpc.auth.me.queryOptions());
  const settings = useQuery(trpc.accountSettings.get.queryOptions());
  // The role table gives deletion to the owner alone (the server decides; this only hides the button).
  const owner = me.data?.user.accountRole === "owner";
  const [open, setOpen] = useState(false);
  const [confirmation, setConfirmation] = useState("");
  const remove = useIntentMutation(trpc.accountSettings.delete.mutationOptions({ onSuccess: onDeleted }));
  const fields = fieldErrorsOf(remove.error);
  return (
    <Card className="border-red-200">
      <h2 className="text-lg font-semibold text-red-700">Danger zone</h2>
      <p className="mt-1 text-sm text-slate-600">
        Deleting the account cancels your subscription at the end of the period you paid for (a trial ends
        now), removes your cards, agents, API keys, every member and invitation, and signs everyone out of it;
        the personal data of people in no other account is deleted. Invoices are kept, as the law requires.
        This cannot be undone.
      </p>
      {!owner ? (
        <p className="mt-4 text-sm text-slate-600">Only the account's owner can delete it.</p>
      ) : !open ? (
        <Button className="mt-4" variant="danger" onClick={() => setOpen(true)}>
          Delete account…
        </Button>
      ) : (
        <form
          noValidate
          className="mt-4 flex max-w-sm flex-col gap-4"
          onSubmit={(event) => {
            event.preventDefault();
            remove.mutate({ confirmation });
          }}
        >
          {remove.isError && Object.keys(fields).length === 0 ? (
            <Banner tone="danger">{remove.error.message}</Banner>
          ) : null}
          <Field
            id="delete-confirmation"
            label={`Type the company name (${settings.data?.name ?? "…"}) to confirm`}
            autoComplete="off"
            value={confirmation}
            onChange={(e) => setConfirmation(e.target.value)}
            error={fields.confirmation}
          />
          <div className="flex gap-2">
            <Button type="submit" variant="danger" disabled={remove.isPending || confirmation.trim() === ""}>
              {remove.isPending ? "Deleting…" : "Delete account permanently"}
            </Button>
            <Button type="button" variant="ghost" onClick={() => setOpen(false)} disabled={remove.isPending}>
              Keep my account
            </Button>
          </div>
        </form>
      )}
    </Card>
  );
}

export function AccountPage() {
  useDocumentTitle("Account");
  const [deleted, setDeleted] = useState<AccountDeletion | null>(null);
  if (deleted) {
    return (
      <div className="space-y-6">
        <h1 className="text-2xl font-bold">Account</h1>
        <AccountDeletedCard deletion={deleted} />
      </div>
    );
  }
  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-bold">Account</h1>
      <CompanyCard />
      <SessionsCard />
      <PasswordCard />
      <DangerZoneCard onDeleted={setDeleted} />
    </div>
  );
}
