// The account's team: members and their roles, pending invitations (resend, revoke), inviting by email,
// removing a member, leaving, and (the owner) transferring ownership. What each role may do is the server's
// role table; this page hides what the viewer's role cannot do and shows the server's refusal otherwise.
import type { AppRouter } from "@minutely/api";
import {
  Badge,
  Banner,
  Button,
  Card,
  ConfirmDialog,
  ErrorState,
  Field,
  fieldErrorsOf,
  SelectField,
  Spinner,
  useDocumentTitle,
  useIntentMutation,
  useNavigate,
} from "@minutely/ui";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { useState } from "react";
import { queryClient as sharedQueryClient, trpc } from "../lib/trpc.ts";

type Team = inferRouterOutputs<AppRouter>["team"]["list"];
type Member = Team["members"][number];
type Role = Member["role"];

const ROLE_LABEL: Record<Role, string> = {
  owner: "Owner",
  admin: "Admin",
  billing: "Billing",
  member: "Member",
};
const ROLE_HELP: Record<Role, string> = {
  owner: "everything, including transferring ownership",
  admin: "everything but transferring ownership",
  billing: "packages, invoices, payment method, minute packs",
  member: "dashboard, usage and agents, read-only",
};
const ASSIGNABLE: readonly Exclude<Role, "owner">[] = ["admin", "billing", "member"];
const ROLE_OPTIONS = ASSIGNABLE.map((role) => ({
  value: role,
  label: `${ROLE_LABEL[role]}: ${ROLE_HELP[role]}`,
}));

function formatDate(value: Date | string): string {
  return new Date(value).toLocaleDateString("en-US", { dateStyle: "medium", timeZone: "UTC" });
}

function InviteForm({ onInvited }: { onInvited: () => Promise<void> }) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Exclude<Role, "owner">>("member");
  const invite = useIntentMutation(
    trpc.team.invite.mutationOptions({
      onSuccess: async () => {
        setEmail("");
        await onInvited();
      },
    }),
  );
  const fields = fieldErrorsOf(invite.error);
  return (
    <form
      noValidate
      aria-label="Invite a team member"
      className="mt-4 grid gap-4 sm:grid-cols-[1fr_1fr_auto] sm:items-end"
      onSubmit={(event) => {
        event.preventDefault();
        invite.mutate({ email: email.trim(), role });
      }}
    >
      <Field
        id="invite-email"
        label="Email address"
        type="email"
        autoComplete="off"
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        error={fields.email}
      />
      <SelectField
        id="invite-role"
        label="Role"
        value={role}
        onChange={(e) => setRole(e.target.value as Exclude<Role, "owner">)}
        options={ROLE_OPTIONS}
        error={fields.role}
      />
      <Button type="submit" disabled={invite.isPending}>
        {invite.isPending ? "Inviting…" : "Invite"}
      </Button>
      {invite.isSuccess ? (
        <div className="sm:col-span-3">
          <Banner tone="success">
            {invite.data.created
              ? `Invitation sent to ${invite.data.invitation.email}.`
              : `${invite.data.invitation.email} is already invited; that invitation stands.`}
          </Banner>
        </div>
      ) : null}
      {invite.isError && Object.keys(fields).length === 0 ? (
        <div className="sm:col-span-3">
          <Banner tone="danger">{invite.error.message}</Banner>
        </div>
      ) : null}
    </form>
  );
}

type Pending =
  | { kind: "remove"; member: Member }
  | { kind: "transfer"; member: Member }
  | { kind: "leave" }
  | null;

export function TeamPage() {
  useDocumentTitle("Team");
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const team = useQuery(trpc.team.list.queryOptions());
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.team.list.queryKey() });
  const [pending, setPending] = useState<Pending>(null);
  const resend = useIntentMutation(trpc.team.resendInvitation.mutationOptions({ onSettled: refresh }));
  const revoke = useIntentMutation(trpc.team.revokeInvitation.mutationOptions({ onSettled: refresh }));
  const changeRole = useIntentMutation(trpc.team.changeRole.mutationOptions({ onSettled: refresh }));
  const remove = useIntentMutation(
    trpc.team.remove.mutationOptions({ onSuccess: () => setPending(null), onSettled: refresh }),
  );
  const transfer = useIntentMutation(
    trpc.team.transferOwnership.mutationOptions({
      onSuccess: async () => {
        setPending(null);
        // The viewer's own role changed: every page's permissions may differ now.
        await sharedQueryClient.invalidateQueries();
      },
    }),
  );
  const leave = useIntentMutation(
    trpc.team.leave.mutationOptions({
      onSuccess: async () => {
        setPending(null);
        await sharedQueryClient.resetQueries();
        await navigate({ to: "/" });
      },
    }),
  );

  const yourRole = team.data?.yourRole;
  const manages = yourRole === "owner" || yourRole === "admin";
  const actionError = [resend, revoke, changeRole].find((m) => m.isError)?.error?.message;

  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-bold">Team</h1>
      {team.isPending ? <Spinner label="Loading the team" /> : null}
      {team.isError ? <ErrorState error={team.error} onRetry={() => team.refetch()} /> : null}
      {actionError ? <Banner tone="danger">{actionError}</Banner> : null}
      {resend.isSuccess ? <Banner tone="success">Invitation sent again with a new link.</Banner> : null}
      {team.data ? (
        <>
          <Card>
            <h2 className="text-lg font-semibold">Members</h2>
            <p className="mt-1 text-sm text-slate-600">
              Your role: <strong>{ROLE_LABEL[team.data.yourRole]}</strong> ({ROLE_HELP[team.data.yourRole]}).
            </p>
            <div className="mt-4 overflow-x-auto">
              <table className="w-full text-left text-sm" data-testid="team-members">
                <thead className="text-slate-500">
                  <tr>
                    <th className="py-2 pr-4 font-medium">Name</th>
                    <th className="py-2 pr-4 font-medium">Email</th>
                    <th className="py-2 pr-4 font-medium">Role</th>
                    <th className="py-2 pr-4 font-medium">Joined</th>
                    <th className="py-2 font-medium">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-200">
                  {team.data.members.map((member) => (
                    <tr key={member.userId}>
                      <td className="py-2 pr-4">
                        {member.name} {member.you ? <Badge tone="success">You</Badge> : null}
                      </td>
                      <td className="py-2 pr-4 break-all">{member.email}</td>
                      <td className="py-2 pr-4">
                        {manages && member.role !== "owner" && !member.you ? (
                          <select
                            aria-label={`Role of ${member.email}`}
                            className="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm"
                            value={member.role}
                            disabled={changeRole.isPending}
                            onChange={(e) =>
                              changeRole.mutate({
                                userId: member.userId,
                                role: e.target.value as Exclude<Role, "owner">,
                              })
                            }
                          >
                            {ASSIGNABLE.map((role) => (
                              <option key={role} value={role}>
                                {ROLE_LABEL[role]}
                              </option>
                            ))}
                          </select>
                        ) : (
                          ROLE_LABEL[member.role]
                        )}
                      </td>
                      <td className="py-2 pr-4 whitespace-nowrap">{formatDate(member.joinedAt)}</td>
                      <td className="py-2 text-right whitespace-nowrap">
                        {team.data.yourRole === "owner" && !member.you ? (
                          <Button
                            variant="secondary"
                            onClick={() => setPending({ kind: "transfer", member })}
                            aria-label={`Make ${member.email} the owner`}
                          >
                            Make owner
                          </Button>
                        ) : null}{" "}
                        {manages && member.role !== "owner" && !member.you ? (
                          <Button
                            variant="danger"
                            onClick={() => setPending({ kind: "remove", member })}
                            aria-label={`Remove ${member.email}`}
                          >
                            Remove
                          </Button>
                        ) : null}
                        {member.you && member.role !== "owner" ? (
                          <Button variant="secondary" onClick={() => setPending({ kind: "leave" })}>
                            Leave account
                          </Button>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </Card>
          {manages ? (
            <Card>
              <h2 className="text-lg font-semibold">Invite someone</h2>
              <p className="mt-1 text-sm text-slate-600">
                We mail them a link that works once, for 7 days. They accept it signed in (or signed up) with
                that address, confirmed.
              </p>
              <InviteForm onInvited={refresh} />
            </Card>
          ) : null}
          <Card>
            <h2 className="text-lg font-semibold">Pending invitations</h2>
            {team.data.invitations.length === 0 ? (
              <p className="mt-2 text-sm text-slate-600">No invitations are waiting.</p>
            ) : (
              <ul className="mt-4 divide-y divide-slate-200" data-testid="team-invitations">
                {team.data.invitations.map((invitation) => (
                  <li key={invitation.id} className="flex flex-wrap items-center justify-between gap-3 py-3">
                    <div>
                      <p className="font-medium break-all">
                        {invitation.email} <Badge>{ROLE_LABEL[invitation.role]}</Badge>{" "}
                        {invitation.expired ? <Badge tone="warning">Expired</Badge> : null}
                      </p>
                      <p className="text-sm text-slate-600">
                        Sent {formatDate(invitation.sentAt)}
                        {invitation.invitedBy ? ` by ${invitation.invitedBy}` : ""} · expires{" "}
                        {formatDate(invitation.expiresAt)}
                      </p>
                    </div>
                    {manages ? (
                      <div className="flex gap-2">
                        <Button
                          variant="secondary"
                          disabled={resend.isPending}
                          onClick={() => resend.mutate({ invitationId: invitation.id })}
                          aria-label={`Resend the invitation to ${invitation.email}`}
                        >
                          Resend
                        </Button>
                        <Button
                          variant="danger"
                          disabled={revoke.isPending}
                          onClick={() => revoke.mutate({ invitationId: invitation.id })}
                          aria-label={`Revoke the invitation to ${invitation.email}`}
                        >
                          Revoke
                        </Button>
                      </div>
                    ) : null}
                  </li>
                ))}
              </ul>
            )}
          </Card>
        </>
      ) : null}
      <ConfirmDialog
        open={pending?.kind === "remove"}
        onOpenChange={(open) => (open ? null : setPending(null))}
        title="Remove this member?"
        description={
          pending?.kind === "remove"
            ? `${pending.member.email} loses access to this account at once and is signed out of it.`
            : undefined
        }
        confirmLabel="Remove"
        tone="danger"
        pending={remove.isPending}
        error={remove.error?.message ?? null}
        onConfirm={() =>
          pending?.kind === "remove" ? remove.mutate({ userId: pending.member.userId }) : undefined
        }
      />
      <ConfirmDialog
        open={pending?.kind === "transfer"}
        onOpenChange={(open) => (open ? null : setPending(null))}
        title="Transfer ownership?"
        description={
          pending?.kind === "transfer"
            ? `${pending.member.email} becomes the owner; you become an admin. Only the new owner can give it back.`
            : undefined
        }
        confirmLabel="Transfer ownership"
        tone="danger"
        pending={transfer.isPending}
        error={transfer.error?.message ?? null}
        onConfirm={() =>
          pending?.kind === "transfer" ? transfer.mutate({ userId: pending.member.userId }) : undefined
        }
      />
      <ConfirmDialog
        open={pending?.kind === "leave"}
        onOpenChange={(open) => (open ? null : setPending(null))}
        title="Leave this account?"
        description="You lose access to it until someone invites you again."
        confirmLabel="Leave"
        tone="danger"
        pending={leave.isPending}
        error={leave.error?.message ?? null}
        onConfirm={() => leave.mutate({})}
      />
    </div>
  );
}
