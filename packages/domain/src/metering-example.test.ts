import { describe, expect, it } from "vitest";
import { EXAMPLE_CALL_SECONDS, meteringExample } from "./metering-example";

const input = {
  baseUrl: "https://billing.example.com/",
  accountId: "0b5f6a52-3f8e-4c55-9a57-2e3c2e1f7a10",
  agentId: "7d1c0d6e-9a53-4a49-8a0e-3d5f1b2c4e6f",
  callId: "example-4f2a9c",
  now: new Date("2026-11-27T12:00:00.750Z"),
};

/** The JSON between the single quotes after -d, as a shell would pass it. */
function curlBody(curl: string): unknown {
  const match = /-d '((?:[^']|'\\'')*)'$/.exec(curl);
  if (!match?.[1]) throw new Error(`no body in ${curl}`);
  return JSON.parse(match[1].replaceAll("'\\''", "'"));
}

describe("meteringExample", () => {
  it("reports one outbound call of the account's agent that ended now, in whole seconds", () => {
    const example = meteringExample(input);
    expect(example.url).toBe("https://billing.example.com/api/v1/usage/calls");
    expect(example.body).toEqual({
      events: [
        {
          call_id: "example-4f2a9c",
          account_id: input.accountId,
          agent_id: input.agentId,
          direction: "outbound",
          started_at: "2026-11-27T11:58:25Z",
          duration_seconds: EXAMPLE_CALL_SECONDS,
        },
      ],
    });
  });

  it("is a curl command whose body is the example's, naming the token's variable and never a token", () => {
    const { curl, body, url } = meteringExample(input);
    expect(curl.split(" \\\n")).toEqual([
      `curl -sS -X POST '${url}'`,
      '  -H "Authorization: Bearer $METERING_API_TOKEN"',
      "  -H 'Content-Type: application/json'",
      `  -d '${JSON.stringify(body, null, 2)}'`,
    ]);
    expect(curlBody(curl)).toEqual(body);
  });

  it("leaves agent_id out when the account has no agent, and quotes a call id with a quote safely", () => {
    const example = meteringExample({ ...input, agentId: null, callId: "it's-1" });
    expect(example.body.events[0]).not.toHaveProperty("agent_id");
    expect(curlBody(example.curl)).toEqual(example.body);
  });

  it("starts the call no earlier than the account's first subscription, to the second", () => {
    const justSubscribed = meteringExample({ ...input, notBefore: new Date("2026-11-27T11:59:30.200Z") });
    expect(justSubscribed.body.events[0].started_at).toBe("2026-11-27T11:59:31Z");
    const longAgo = meteringExample({ ...input, notBefore: new Date("2026-10-01T00:00:00Z") });
    expect(longAgo.body.events[0].started_at).toBe("2026-11-27T11:58:25Z");
  });

  it("refuses an invalid time", () => {
    expect(() => meteringExample({ ...input, now: new Date(Number.NaN) })).toThrow(RangeError);
  });
});
