import { zodResolver } from "@hookform/resolvers/zod";
import {
  Badge,
  Banner,
  Button,
  Card,
  EmptyState,
  ErrorState,
  Field,
  fieldErrorsOf,
  Link,
  Spinner,
  useDocumentTitle,
  useIntentMutation,
} from "@minutely/ui";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { formatDate } from "../lib/format.ts";
import { trpc } from "../lib/trpc.ts";

const AgentNameSchema = z.object({
  name: z.string().trim().min(1, "Enter a name for the agent.").max(80, "Use at most 80 characters."),
});
type AgentNameValues = z.infer<typeof AgentNameSchema>;

function AgentNameForm({
  defaultName = "",
  submitLabel,
  pendingLabel,
  onSubmit,
  onCancel,
  label,
  disabled = false,
  hintId,
}: {
  defaultName?: string;
  submitLabel: string;
  pendingLabel: string;
  label: string;
  /** Shown but not usable (no package yet): `hintId` names the text that says why. */
  disabled?: boolean;
  hintId?: string;
  onSubmit: (values: AgentNameValues) => Promise<unknown>;
  onCancel?: () => void;
}) {
  const [failure, setFailure] = useState<string | null>(null);
  const form = useForm<AgentNameValues>({
    resolver: zodResolver(AgentNameSchema),
    defaultValues: { name: defaultName },
  });
  const submit = form.handleSubmit(async (values) => {
    setFailure(null);
    try {
      await onSubmit(values);
      form.reset({ name: onCancel ? values.name : "" });
    } catch (error) {
      const message = fieldErrorsOf(error).name;
      // Focus goes back to the field, which reads out its message (the button was disabled meanwhile).
      if (message) form.setError("name", { message }, { shouldFocus: true });
      else setFailure(error instanceof Error ? error.message : "Something went wrong. Try again.");
    }
  });
  return (
    <form onSubmit={submit} noValidate className="flex flex-col gap-3" aria-describedby={hintId}>
      {failure ? (
        <Banner tone="danger" title="Not saved">
          <p>{failure}</p>
        </Banner>
      ) : null}
      <fieldset disabled={disabled} className="flex flex-wrap items-end gap-3">
        <div className="min-w-60 flex-1">
          <Field
            label={label}
            maxLength={80}
            className="disabled:cursor-not-allowed disabled:bg-slate-100"
            {...form.register("name")}
            error={form.formState.errors.name?.message}
          />
        </div>
        <Button type="submit" disabled={disabled || form.formState.isSubmitting}>
          {form.formState.isSubmitting ? pendingLabel : submitLabel}
        </Button>
        {onCancel ? (
          <Button variant="ghost" onClick={onCancel}>
            Cancel
          </Button>
        ) : null}
      </fieldset>
    </form>
  );
}

/** The explanation of why agents cannot be added, which the disabled form points to. */
const WHY_ID = "agents-why-not";

export function AgentsPage() {
  useDocumentTitle("Agents");
  const queryClient = useQueryClient();
  const agents = useQuery(trpc.agents.list.queryOptions());
  const refresh = { onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.agents.pathKey() }) };
  const create = useIntentMutation(trpc.agents.create.mutationOptions(refresh));
  const rename = useIntentMutation(trpc.agents.rename.mutationOptions(refresh));
  const deactivate = useIntentMutation(trpc.agents.deactivate.mutationOptions(refresh));
  const activate = useIntentMutation(trpc.agents.activate.mutationOptions(refresh));
  const [editing, setEditing] = useState<string | null>(null);
  const toggleError = activate.error ?? deactivate.error;

  if (agents.isPending) return <Spinner label="Loading your agents" />;
  if (agents.isError) return <ErrorState error={agents.error} onRetry={() => agents.refetch()} />;
  const { activeCount, allowed, plan, accessGranted } = agents.data;
  const atLimit = activeCount >= allowed;
  // Without a package (or while it grants no access) the server refuses new agents: say so up front.
  const cannotAdd = !plan || !accessGranted;

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-2xl font-bold">Agents</h1>
          <p className="text-slate-600">The voice agents that take and make your calls.</p>
        </div>
        {plan ? (
          <p className="text-sm text-slate-700" data-testid="agent-allowance">
            <span className="text-lg font-semibold">
              {activeCount} of {allowed}
            </span>{" "}
            active {allowed === 1 ? "agent" : "agents"} on your {plan.name} package
          </p>
        ) : null}
      </div>

      {!plan ? (
        <div id={WHY_ID} data-testid="agents-need-package">
          <Banner tone="info" title="Choose a package to add agents">
            <p>
              Agents come with a package, which sets how many can be active at once. You have no package yet,
              so there is nothing to add them to.{" "}
              <Link to="/packages" className="font-medium underline">
                Choose a package
              </Link>
            </p>
          </Banner>
        </div>
      ) : !accessGranted ? (
        <div id={WHY_ID}>
          <Banner tone="warning" title="Your subscription is not active">
            <p>
              Agents cannot be added or active until your subscription is active again.{" "}
              <Link to="/billing" className="font-medium underline">
                Go to billing
              </Link>
            </p>
          </Banner>
        </div>
      ) : atLimit ? (
        <Banner tone="warning" title="All your agents are in use">
          <p>
            Your {plan.name} package allows {allowed} active {allowed === 1 ? "agent" : "agents"}. Deactivate
            one or{" "}
            <Link to="/packages" className="font-medium underline">
              upgrade your package
            </Link>{" "}
            to add another.
          </p>
        </Banner>
      ) : null}

      <Card>
        <h2 className="mb-3 text-lg font-semibold">Add an agent</h2>
        <AgentNameForm
          label="Agent name"
          disabled={cannotAdd}
          hintId={cannotAdd ? WHY_ID : undefined}
          submitLabel="Add agent"
          pendingLabel="Adding…"
          onSubmit={(values) => create.mutateAsync(values)}
        />
      </Card>

      {toggleError ? (
        <Banner tone="danger" title="Not changed">
          <p>{toggleError.message}</p>
        </Banner>
      ) : null}

      {agents.data.agents.length === 0 ? (
        <EmptyState title="No agents yet">
          {cannotAdd ? "Your agents will be listed here." : "Add your first agent above."}
        </EmptyState>
      ) : (
        <Card className="p-0">
          <ul className="divide-y divide-slate-100" aria-label="Agents">
            {agents.data.agents.map((agent) => (
              <li key={agent.id} className="px-5 py-4" data-testid={`agent-${agent.name}`}>
                {editing === agent.id ? (
                  <AgentNameForm
                    label={`New name for ${agent.name}`}
                    defaultName={agent.name}
                    submitLabel="Save"
                    pendingLabel="Saving…"
                    onSubmit={async (values) => {
                      await rename.mutateAsync({ id: agent.id, name: values.name });
                      setEditing(null);
                    }}
                    onCancel={() => setEditing(null)}
                  />
                ) : (
                  <div className="flex flex-wrap items-center gap-3">
                    <div className="flex-1">
                      <p className="font-medium">{agent.name}</p>
                      <p className="text-xs text-slate-500">
                        {agent.active
                          ? `Added ${formatDate(agent.createdAt)}`
                          : `Deactivated ${formatDate(agent.deactivatedAt)}`}
                      </p>
                    </div>
                    <Badge tone={agent.active ? "success" : "neutral"}>
                      {agent.active ? "Active" : "Inactive"}
                    </Badge>
                    <Button variant="secondary" onClick={() => setEditing(agent.id)}>
                      Rename
                    </Button>
                    {agent.active ? (
                      <Button
                        variant="secondary"
                        disabled={deactivate.isPending}
                        onClick={() => deactivate.mutate({ id: agent.id })}
                      >
                        Deactivate
                      </Button>
                    ) : (
                      <Button
                        variant="secondary"
                        disabled={activate.isPending}
                        onClick={() => activate.mutate({ id: agent.id })}
                      >
                        Activate
                      </Button>
                    )}
                  </div>
                )}
              </li>
            ))}
          </ul>
        </Card>
      )}
    </div>
  );
}
