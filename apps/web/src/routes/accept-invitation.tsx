// The link of an invitation mail. Anyone holding the link sees whose invitation it is and for which address;
// accepting needs that address signed in (sign in or sign up from here, and back) and confirmed.
import {
  Banner,
  Button,
  Card,
  ErrorState,
  Link,
  Spinner,
  signOut,
  useDocumentTitle,
  useIntentMutation,
  useNavigate,
  useSearch,
} from "@minutely/ui";
import { useQuery } from "@tanstack/react-query";
import { queryClient, trpc } from "../lib/trpc.ts";

const ROLE_LABEL = { owner: "owner", admin: "admin", billing: "billing", member: "member" } as const;

export function AcceptInvitationPage() {
  useDocumentTitle("Join an account");
  const { token } = useSearch("/accept-invitation");
  const navigate = useNavigate();
  const me = useQuery(trpc.auth.me.queryOptions());
  const preview = useQuery({
    ...trpc.invitations.preview.queryOptions({ token: token ?? "" }),
    enabled: Boolean(token),
    retry: false,
  });
  const accept = useIntentMutation(
    trpc.invitations.accept.mutationOptions({
      onSuccess: async () => {
        // The session now acts in the joined account: every cached answer belonged to the previous one.
        await queryClient.resetQueries();
        await navigate({ to: "/" });
      },
    }),
  );
  const here = `/accept-invitation?token=${encodeURIComponent(token ?? "")}`;
  const invitation = preview.data;
  const signedInAs = me.data?.user.email.toLowerCase();

  return (
    <div className="mx-auto mt-12 w-full max-w-md">
      <Card>
        <h1 className="mb-4 text-xl font-bold">Join an account</h1>
        {!token ? (
          <Banner tone="danger">This link has no token. Open the link from the mail again.</Banner>
        ) : null}
        {preview.isPending && token ? <Spinner label="Reading the invitation" /> : null}
        {preview.isError ? <ErrorState error={preview.error} /> : null}
        {invitation ? (
          <div className="space-y-4">
            <p>
              You are invited to <strong>{invitation.accountName}</strong> as{" "}
              <strong>{ROLE_LABEL[invitation.role]}</strong>, at <strong>{invitation.email}</strong>.
            </p>
            {invitation.status === "expired" ? (
              <Banner tone="danger">
                This invitation has expired. Ask the account's owner or an admin for a new one.
              </Banner>
            ) : invitation.status === "revoked" ? (
              <Banner tone="danger">This invitation was revoked.</Banner>
            ) : invitation.status === "accepted" && signedInAs !== invitation.email ? (
              <Banner tone="danger">This invitation was already used.</Banner>
            ) : me.isPending ? (
              <Spinner label="Checking who is signed in" />
            ) : !me.data ? (
              <div className="space-y-3">
                <p className="text-sm text-slate-600">
                  Sign in, or create a sign-in, with {invitation.email} to accept.
                </p>
                <div className="flex gap-3">
                  <Link
                    to="/sign-in"
                    search={{ redirect: here }}
                    className="rounded-md bg-brand-600 px-4 py-2 text-sm font-medium text-white"
                  >
                    Sign in
                  </Link>
                  <Link
                    to="/sign-up"
                    search={{ redirect: here }}
                    className="rounded-md px-4 py-2 text-sm font-medium text-brand-700 ring-1 ring-brand-300"
                  >
                    Sign up
                  </Link>
                </div>
              </div>
            ) : signedInAs !== invitation.email ? (
              <div className="space-y-3">
                <Banner tone="warning">
                  You are signed in as {me.data.user.email}; this invitation is for {invitation.email}.
                </Banner>
                <Button
                  variant="secondary"
                  onClick={async () => {
                    await signOut();
                    await queryClient.resetQueries();
                    await navigate({ to: "/sign-in", search: { redirect: here } });
                  }}
                >
                  Sign out and sign in as {invitation.email}
                </Button>
              </div>
            ) : me.data.user.emailVerified === false ? (
              <Banner tone="warning">
                Confirm your email address first (open the link we mailed you), then open this invitation
                again.
              </Banner>
            ) : (
              <div className="space-y-3">
                {accept.isError ? <Banner tone="danger">{accept.error.message}</Banner> : null}
                <Button disabled={accept.isPending} onClick={() => accept.mutate({ token: token ?? "" })}>
                  {accept.isPending ? "Joining…" : `Join ${invitation.accountName}`}
                </Button>
              </div>
            )}
          </div>
        ) : null}
      </Card>
    </div>
  );
}
