// One idempotency key per user intent (the server side is packages/api/src/idempotency.ts). Every mutation of
// both apps goes through useIntentMutation (each app's mutations.test.ts checks it): the key is made when
// the user starts an intent (startIntent(), called when a dialog or form opens, or lazily at the first
// submit), reused by every retry and double submit of it, and replaced after a success or once the input
// changed. A second submit while the first runs sends nothing: it gets the first one's outcome (the button
// is disabled as well, but a fast double click lands before React re-renders it).
import { type MutateOptions, type UseMutationOptions, useMutation } from "@tanstack/react-query";
import { useCallback, useRef } from "react";

/** A fresh key: 32 hex digits, within the server's 8-64 letters, digits, _ or -. */
export function newRequestKey(): string {
  return crypto.randomUUID().replaceAll("-", "");
}

type Variables = { requestKey?: string | undefined } | undefined;
/** What a caller passes: the input without its key (nothing for mutations that take only the key). */
export type IntentInput<V> = V extends object ? Omit<V, "requestKey"> : V;
type Args<TData, TError, V, TContext> =
  undefined extends IntentInput<V>
    ? [input?: IntentInput<V>, options?: MutateOptions<TData, TError, V, TContext>]
    : [input: IntentInput<V>, options?: MutateOptions<TData, TError, V, TContext>];

/** Input as compared between submits: dates as ISO strings, key order as written. */
const fingerprintOf = (input: unknown) => JSON.stringify(input ?? null);

export function useIntentMutation<TData, TError, TVariables extends Variables, TContext>(
  options: UseMutationOptions<TData, TError, TVariables, TContext>,
) {
  const mutation = useMutation(options);
  const intent = useRef<{ key: string; fingerprint: string } | null>(null);
  const running = useRef<Promise<TData> | null>(null);

  /** A new intent (a dialog or form opened): the next submit gets a new key. */
  const startIntent = useCallback(() => {
    if (!running.current) intent.current = null;
  }, []);

  const mutateAsync = useCallback(
    (...[input, mutateOptions]: Args<TData, TError, TVariables, TContext>): Promise<TData> => {
      if (running.current) return running.current;
      const fingerprint = fingerprintOf(input);
      if (intent.current?.fingerprint !== fingerprint) {
        intent.current = { key: newRequestKey(), fingerprint };
      }
      const current = intent.current;
      const variables = { ...(input ?? {}), requestKey: current.key } as TVariables;
      const promise = mutation
        .mutateAsync(variables, mutateOptions)
        .then((data) => {
          // Done: whatever the user does next is a new intent.
          if (intent.current === current) intent.current = null;
          return data;
        })
        .finally(() => {
          running.current = null;
        });
      running.current = promise;
      return promise;
    },
    [mutation.mutateAsync],
  );

  const mutate = useCallback(
    (...args: Args<TData, TError, TVariables, TContext>): void => {
      // The error is the mutation's state (mutation.error) and the options' onError, as with useMutation.
      mutateAsync(...args).catch(() => {});
    },
    [mutateAsync],
  );

  return {
    ...mutation,
    mutate,
    mutateAsync,
    startIntent,
    isPending: mutation.isPending || running.current !== null,
  };
}
