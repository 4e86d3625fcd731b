import {
  Badge,
  Banner,
  Button,
  Card,
  ConfirmDialog,
  EmptyState,
  ErrorState,
  Field,
  Link,
  ScrollArea,
  Spinner,
  useDocumentTitle,
  useIntentMutation,
} from "@minutely/ui";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { CopySecret } from "../components/copy-secret.tsx";
import { formatDate } from "../lib/format.ts";
import { trpc } from "../lib/trpc.ts";

const KEY_NAME_ID = "api-key-name";

export function ApiKeysPage() {
  useDocumentTitle("API keys");
  const queryClient = useQueryClient();
  const keys = useQuery(trpc.apiKeys.list.queryOptions());
  const [name, setName] = useState("");
  const [created, setCreated] = useState<{ name: string; key: string | null } | null>(null);
  const [revoking, setRevoking] = useState<{ id: string; name: string } | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.apiKeys.list.queryKey() });
  const create = useIntentMutation(
    trpc.apiKeys.create.mutationOptions({
      onSuccess: async (result) => {
        setCreated({ name: result.apiKey.name, key: result.key });
        setName("");
        await refresh();
      },
      // Focus goes back to the name, which reads out why (the button was disabled meanwhile).
      onError: () => document.getElementById(KEY_NAME_ID)?.focus(),
    }),
  );
  const revoke = useIntentMutation(
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
            className="flex flex-wrap items-start gap-3"
            onSubmit={(event) => {
              event.preventDefault();
              // A double click submits once; a retry of the same name reuses its key (useIntentMutation).
              create.mutate({ name });
            }}
          >
            <div className="min-w-56 flex-1">
              <Field
                id={KEY_NAME_ID}
                label="Key name"
                value={name}
                onChange={(e) => {
                  setName(e.target.value);
                  if (created) setCreated(null);
                }}
                error={fieldError}
              />
            </div>
            {/* Level with the input (under its label), also when a message appears under the input. */}
            <div className="pt-6">
              <Button type="submit" disabled={create.isPending}>
                {create.isPending ? "Creating…" : "Create key"}
              </Button>
            </div>
          </form>
          {create.isError && !fieldError ? <Banner tone="danger">{create.error.message}</Banner> : null}
          {created?.key ? (
            <Banner tone="success" title={`Copy your new key "${created.name}" now`} className="mt-4">
              <p>It is shown only once; Minutely stores only a hash of it.</p>
              <CopySecret value={created.key} label={`New API key ${created.name}`} />
            </Banner>
          ) : created ? (
            <Banner tone="warning" title={`The key "${created.name}" was created earlier`} className="mt-4">
              <p>
                Its full key was shown when it was created and cannot be shown again. If you did not save it,
                revoke the key and create a new one.
              </p>
            </Banner>
          ) : null}
        </Card>
      )}
      <Card>
        <h2 className="mb-3 text-lg font-semibold">Your keys</h2>
        {keys.data.keys.length === 0 ? (
          <EmptyState title="No API keys yet" />
        ) : (
          <ScrollArea label="API key table" className="overflow-x-auto">
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
                        <Button
                          variant="ghost"
                          onClick={() => {
                            revoke.startIntent();
                            setRevoking({ id: key.id, name: key.name });
                          }}
                        >
                          Revoke {key.name}
                        </Button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollArea>
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
