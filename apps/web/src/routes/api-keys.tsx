import {
  Badge,
  Banner,
  Button,
  Card,
  ConfirmDialog,
  EmptyState,
  ErrorState,
  Field,
  Spinner,
  useDocumentTitle,
} from "@minutely/ui";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useState } from "react";
import { formatDate } from "../lib/format.ts";
import { trpc } from "../lib/trpc.ts";

export function ApiKeysPage() {
  useDocumentTitle("API keys");
  const queryClient = useQueryClient();
  const keys = useQuery(trpc.apiKeys.list.queryOptions());
  const [name, setName] = useState("");
  const [created, setCreated] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<{ id: string; name: string } | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.apiKeys.list.queryKey() });
  const create = useMutation(
    trpc.apiKeys.create.mutationOptions({
      onSuccess: async (result) => {
        setCreated(result.key);
        setName("");
        await refresh();
      },
    }),
  );
  const revoke = useMutation(
    trpc.apiKeys.revoke.mutationOptions({
      onSuccess: async () => {
        setRevoking(null);
        await refresh();
      },
    }),
  );
  if (keys.isPending) return <Spinner label="Loading API keys" />;
  if (keys.isError) return <ErrorState error={keys.error} onRetry={() => keys.refetch()} />;
  const fieldError = (create.error?.data as { fieldErrors?: Record<string, string> } | undefined)?.fieldErrors
    ?.name;
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-bold">API keys</h1>
        <p className="text-slate-600">
          Read your subscription, usage, invoices and agents from your own systems:{" "}
          <a className="text-brand-700 underline" href="/api/docs">
            API reference
          </a>
          .
        </p>
      </div>
      {!keys.data.apiAccess ? (
        <Banner tone="info" title="API access is part of the Enterprise package">
          <p>
            Your package does not include API access, so keys cannot be created and existing keys do not work.
          </p>
          <Link to="/packages" className="font-medium underline">
            Compare packages
          </Link>
        </Banner>
      ) : (
        <Card>
          <form
            className="flex flex-wrap items-end gap-3"
            onSubmit={(event) => {
              event.preventDefault();
              create.mutate({ name });
            }}
          >
            <div className="min-w-56 flex-1">
              <Field
                label="Key name"
                value={name}
                onChange={(e) => setName(e.target.value)}
                error={fieldError}
              />
            </div>
            <Button type="submit" disabled={create.isPending}>
              {create.isPending ? "Creating…" : "Create key"}
            </Button>
          </form>
          {create.isError && !fieldError ? <Banner tone="danger">{create.error.message}</Banner> : null}
          {created ? (
            <Banner tone="success" title="Copy your new key now" className="mt-4">
              <p>It is shown only once; Minutely stores only a hash of it.</p>
              <code
                data-testid="new-api-key"
                className="mt-2 block break-all rounded bg-white p-2 font-mono text-xs"
              >
                {created}
              </code>
            </Banner>
          ) : null}
        </Card>
      )}
      <Card>
        <h2 className="mb-3 text-lg font-semibold">Your keys</h2>
        {keys.data.keys.length === 0 ? (
          <EmptyState title="No API keys yet" />
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm" aria-label="API keys">
              <thead>
                <tr className="text-slate-500">
                  <th className="py-2 pr-4">Name</th>
                  <th className="py-2 pr-4">Key</th>
                  <th className="py-2 pr-4">Created</th>
                  <th className="py-2 pr-4">Last used</th>
                  <th className="py-2">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {keys.data.keys.map((key) => (
                  <tr key={key.id} className="border-t border-slate-100">
                    <td className="py-2 pr-4">{key.name}</td>
                    <td className="py-2 pr-4 font-mono text-xs">{key.prefix}_…</td>
                    <td className="py-2 pr-4">{formatDate(key.createdAt)}</td>
                    <td className="py-2 pr-4">{key.lastUsedAt ? formatDate(key.lastUsedAt) : "Never"}</td>
                    <td className="py-2 text-right">
                      {key.revokedAt ? (
                        <Badge>Revoked</Badge>
                      ) : (
                        <Button variant="ghost" onClick={() => setRevoking({ id: key.id, name: key.name })}>
                          Revoke {key.name}
                        </Button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <ConfirmDialog
        open={revoking !== null}
        onOpenChange={(open) => !open && setRevoking(null)}
        title={`Revoke ${revoking?.name ?? "this key"}?`}
        description="Requests with this key stop working immediately. This cannot be undone."
        confirmLabel="Revoke key"
        tone="danger"
        pending={revoke.isPending}
        error={revoke.error?.message ?? null}
        onConfirm={() => revoking && revoke.mutate({ id: revoking.id })}
      />
    </div>
  );
}
