// The overage budget (spend cap) on the Usage page: the current period's overage against it, a clear
// message once it is reached, and a form to set, change or remove it (whole minor units on the wire).
import { zodResolver } from "@hookform/resolvers/zod";
import { formatMoney } from "@minutely/domain";
import { Banner, Button, Card, Field, fieldErrorsOf, useIntentMutation } from "@minutely/ui";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { formatDate } from "../lib/format.ts";
import { toMinorUnits } from "../lib/money-input.ts";
import { trpc } from "../lib/trpc.ts";

const BudgetSchema = z.object({
  budget: z.string().refine((text) => toMinorUnits(text) !== null, "Enter an amount such as 50 or 49.99."),
});

export function SpendCapCard() {
  const queryClient = useQueryClient();
  const view = useQuery(trpc.spendCap.get.queryOptions(undefined, { refetchInterval: 15_000 }));
  const refresh = {
    onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.spendCap.get.queryKey() }),
  };
  const save = useIntentMutation(trpc.spendCap.set.mutationOptions(refresh));
  const form = useForm<z.input<typeof BudgetSchema>, unknown, z.output<typeof BudgetSchema>>({
    resolver: zodResolver(BudgetSchema),
    defaultValues: { budget: "" },
  });
  const data = view.data;
  if (!data?.currency) return null;
  const { cap, status, available, currency, period, maxCents } = data;
  const money = (amount: number) => formatMoney({ amount, currency });
  const submit = form.handleSubmit(async ({ budget }) => {
    const amountCents = toMinorUnits(budget);
    if (amountCents === null) return;
    if (amountCents > maxCents) {
      form.setError("budget", { message: `Use at most ${money(maxCents)}.` }, { shouldFocus: true });
      return;
    }
    try {
      await save.mutateAsync({ amountCents, currency });
      form.reset({ budget: "" });
    } catch (error) {
      const fields = fieldErrorsOf(error);
      const message =
        fields?.amountCents ?? fields?.currency ?? (error instanceof Error ? error.message : "Not saved.");
      form.setError("budget", { message }, { shouldFocus: true });
    }
  });
  if (!available) {
    return (
      <Card data-testid="spend-cap">
        <h2 className="mb-1 text-lg font-semibold">Overage budget</h2>
        <p className="text-sm text-slate-600">
          Your package has a hard cap and bills no overage, so there is no overage budget to set.
        </p>
      </Card>
    );
  }
  const share = status ? Math.min(100, status.percentage) : 0;
  return (
    <Card data-testid="spend-cap" className="space-y-3">
      <div>
        <h2 className="mb-1 text-lg font-semibold">Overage budget</h2>
        <p className="text-sm text-slate-600">
          The most the minutes beyond your included ones may cost each billing period. You are alerted at 50%,
          80% and 100%; at 100% outbound calls pause until the next period or until you raise the budget, and
          nothing beyond it is billed.
        </p>
      </div>
      {cap && status ? (
        <>
          <p className="text-xl font-semibold" data-testid="spend-cap-status">
            {money(status.spentCents)}{" "}
            <span className="text-base font-normal text-slate-500">
              of {money(cap.amountCents)} budget used this period ({status.percentage}%)
            </span>
          </p>
          <div
            className="h-3 w-full overflow-hidden rounded-full bg-slate-100"
            role="progressbar"
            aria-label="Overage budget used"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={share}
          >
            <div
              className={`h-full ${status.reached ? "bg-red-500" : status.percentage >= 80 ? "bg-amber-500" : "bg-brand-600"}`}
              style={{ width: `${share}%` }}
            />
          </div>
          {status.reached ? (
            <Banner tone="danger" title="Overage budget reached">
              <p data-testid="spend-cap-reached">
                Outbound calls are paused until {period ? formatDate(period.end) : "the next period"} or until
                you raise the budget. Inbound calls are still answered; their minutes beyond the budget are
                not billed.
              </p>
            </Banner>
          ) : null}
        </>
      ) : (
        <p className="text-sm text-slate-600" data-testid="spend-cap-status">
          No budget set: overage is billed for every minute beyond your included ones.
        </p>
      )}
      <form onSubmit={submit} noValidate className="flex flex-wrap items-end gap-3">
        <div className="w-56">
          <Field
            label={`${cap ? "New budget" : "Monthly budget"} (${currency.toUpperCase()})`}
            inputMode="decimal"
            placeholder="50.00"
            {...form.register("budget")}
            error={form.formState.errors.budget?.message}
          />
        </div>
        <Button type="submit" disabled={form.formState.isSubmitting || save.isPending}>
          {cap ? "Change budget" : "Set budget"}
        </Button>
        {cap ? (
          <Button
            type="button"
            variant="secondary"
            disabled={save.isPending}
            onClick={() => save.mutate({ amountCents: null, currency })}
          >
            Remove budget
          </Button>
        ) : null}
      </form>
    </Card>
  );
}
