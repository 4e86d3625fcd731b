// What the calling platform needs to report this account's calls: the account id, the agents' ids and a
// ready-to-paste metering request, built by `meteringExample` of the domain (the function the API's test
// sends to the real route). The metering token is never shown: the request names its variable.
import { EXAMPLE_CALL_SECONDS, METERING_TOKEN_VARIABLE, meteringExample } from "@minutely/domain";
import {
  Badge,
  Banner,
  Button,
  Card,
  EmptyState,
  ErrorState,
  Link,
  ScrollArea,
  Spinner,
  useDocumentTitle,
} from "@minutely/ui";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { CopyButton } from "../components/copy-button.tsx";
import { trpc } from "../lib/trpc.ts";

/** A call id no earlier example used: "example-" and 12 random hex digits (works on any origin). */
function freshCallId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return `example-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function IdRow({ id, label, sourceId }: { id: string; label: string; sourceId: string }) {
  return (
    <div className="flex flex-wrap items-center gap-3">
      <code
        id={sourceId}
        className="rounded bg-slate-100 px-2 py-1 font-mono text-sm break-all text-slate-900"
      >
        {id}
      </code>
      <CopyButton text={id} label={label} sourceId={sourceId} />
    </div>
  );
}

export function IntegrationPage() {
  useDocumentTitle("Integration");
  // Read once: a refetch would change the example under the customer's eyes (its time, say).
  const view = useQuery({
    ...trpc.integration.get.queryOptions(),
    staleTime: Number.POSITIVE_INFINITY,
    refetchOnWindowFocus: false,
  });
  const [callId, setCallId] = useState(freshCallId);
  if (view.isPending) return <Spinner label="Loading your integration details" />;
  if (view.isError) return <ErrorState error={view.error} onRetry={() => view.refetch()} />;
  const { account, agents, apiBaseUrl, now, subscribed, subscribedSince } = view.data;
  const agent = agents.find((a) => a.active) ?? agents[0] ?? null;
  const example = meteringExample({
    baseUrl: apiBaseUrl,
    accountId: account.id,
    agentId: agent?.id ?? null,
    callId,
    now,
    notBefore: subscribedSince,
  });
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-bold">Integration</h1>
        <p className="text-slate-600">
          Your calling platform reports each finished call to Minutely with your account id and the id of the
          agent that made it. Copy them here, with a request to start from.
        </p>
      </div>
      <Card className="space-y-2">
        <h2 className="text-lg font-semibold">Account id</h2>
        <p className="text-sm text-slate-600">
          Sent as <code className="font-mono">account_id</code> with every call of {account.name}.
        </p>
        <IdRow id={account.id} label="the account id" sourceId="account-id" />
      </Card>
      <Card className="space-y-3">
        <h2 className="text-lg font-semibold">Agent ids</h2>
        <p className="text-sm text-slate-600">
          Sent as <code className="font-mono">agent_id</code>: the agent that made or answered the call.
        </p>
        {agents.length === 0 ? (
          <EmptyState title="No agents yet">
            <Link to="/agents" className="font-medium text-brand-700 underline">
              Add an agent
            </Link>{" "}
            to get its id.
          </EmptyState>
        ) : (
          <ul className="divide-y divide-slate-100" aria-label="Agents">
            {agents.map((a) => (
              <li key={a.id} className="space-y-1 py-3" data-testid={`integration-agent-${a.name}`}>
                <p className="flex flex-wrap items-center gap-2 text-sm font-medium">
                  {a.name}
                  {a.active ? null : <Badge tone="neutral">Inactive</Badge>}
                </p>
                <IdRow id={a.id} label={`the id of agent ${a.name}`} sourceId={`agent-id-${a.id}`} />
              </li>
            ))}
          </ul>
        )}
      </Card>
      <Card className="space-y-3">
        <div className="flex flex-wrap items-center justify-between gap-2">
          <h2 className="text-lg font-semibold">Report a call</h2>
          <Button variant="ghost" className="px-3 py-1" onClick={() => setCallId(freshCallId())}>
            New call id
          </Button>
        </div>
        <p className="text-sm text-slate-600">
          <code className="font-mono">POST {example.url}</code> records finished calls, each once per{" "}
          <code className="font-mono">call_id</code>. Set{" "}
          <code className="font-mono">{METERING_TOKEN_VARIABLE}</code> to the metering service token of your
          Minutely deployment first: it is never shown here.
        </p>
        {subscribed ? null : <Banner tone="info">Calls are recorded once your account has a package.</Banner>}
        <ScrollArea label="Example request" className="overflow-x-auto rounded-lg bg-slate-900">
          <pre
            id="metering-example"
            className="p-4 font-mono text-xs leading-relaxed text-slate-100"
            data-testid="metering-example"
          >
            {example.curl}
          </pre>
        </ScrollArea>
        <CopyButton text={example.curl} label="the example request" sourceId="metering-example" />
        <p className="text-sm text-slate-600">
          Sending it records an outbound call of {EXAMPLE_CALL_SECONDS} seconds (
          {Math.ceil(EXAMPLE_CALL_SECONDS / 60)} billable minutes) that just ended
          {agent ? `, made by ${agent.name}` : ""}. Sending it again is a duplicate and counts nothing.{" "}
          <a className="text-brand-700 underline" href={`${apiBaseUrl}/api/docs`}>
            API reference
          </a>
        </p>
      </Card>
    </div>
  );
}
