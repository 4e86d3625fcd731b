// Prepaid minute packs on the Usage page: the balance with expiry dates, the ledger (bought = used +
// expired + remaining), buying a pack (the saved card, or the Checkout page), and the auto top-up settings
// with this month's top-ups (a declined or 3-D Secure one is shown and has stopped auto top-up).
import { formatMoney } from "@minutely/domain";
import { Banner, Button, Card, Field, fieldErrorsOf, useIntentMutation } from "@minutely/ui";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { formatDate, formatNumber } from "../lib/format.ts";
import { trpc } from "../lib/trpc.ts";

const STATE_LABEL = { active: "Active", used_up: "Used up", expired: "Expired" } as const;
const TOP_UP_LABEL: Record<string, string> = {
  pending: "In progress",
  succeeded: "Bought",
  declined: "Declined",
  requires_action: "Needs your confirmation",
};

export function MinutePacksCard() {
  const queryClient = useQueryClient();
  const offer = useQuery(trpc.packs.list.queryOptions());
  const ledger = useQuery(trpc.packs.ledger.queryOptions(undefined, { refetchInterval: 15_000 }));
  const topUp = useQuery(trpc.packs.autoTopUp.get.queryOptions());
  const refresh = {
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: trpc.packs.ledger.queryKey() });
      await queryClient.invalidateQueries({ queryKey: trpc.packs.autoTopUp.get.queryKey() });
    },
  };
  const buyCard = useIntentMutation(trpc.packs.buyWithSavedCard.mutationOptions(refresh));
  const buyCheckout = useIntentMutation(trpc.packs.buyWithCheckout.mutationOptions());
  const saveTopUp = useIntentMutation(trpc.packs.autoTopUp.set.mutationOptions(refresh));
  const [problem, setProblem] = useState<string | null>(null);
  const [bought, setBought] = useState<string | null>(null);
  const [form, setForm] = useState<{ packId: string; threshold: string; max: string } | null>(null);
  const [formErrors, setFormErrors] = useState<Record<string, string>>({});
  const justPaid = new URLSearchParams(window.location.search).get("pack") === "bought";

  const packs = offer.data ?? [];
  const data = ledger.data;
  const settings = topUp.data?.settings ?? null;
  const current = form ?? {
    packId: settings?.packId ?? packs[0]?.id ?? "",
    threshold: String(settings?.thresholdMinutes ?? 200),
    max: String(settings?.maxPerMonth ?? 2),
  };

  async function buy(packId: string, name: string) {
    setProblem(null);
    setBought(null);
    try {
      await buyCard.mutateAsync({ packId });
      setBought(name);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : "The pack was not bought.");
    }
  }

  async function checkout(packId: string) {
    setProblem(null);
    try {
      const session = await buyCheckout.mutateAsync({ packId });
      window.location.assign(session.url);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : "The checkout page could not be opened.");
    }
  }

  async function save(off: boolean) {
    setFormErrors({});
    const threshold = Number(current.threshold);
    const max = Number(current.max);
    const local: Record<string, string> = {};
    if (!off) {
      if (!/^\d+$/.test(current.threshold.trim()) || threshold < 1 || threshold > 1_000_000)
        local.thresholdMinutes = "Enter whole minutes from 1 to 1,000,000.";
      if (!/^\d+$/.test(current.max.trim()) || max < 1 || max > 10) local.maxPerMonth = "Enter 1 to 10.";
      if (!current.packId) local.packId = "Choose a pack.";
      if (Object.keys(local).length > 0) {
        setFormErrors(local);
        return;
      }
    }
    try {
      await saveTopUp.mutateAsync({
        settings: off ? null : { packId: current.packId, thresholdMinutes: threshold, maxPerMonth: max },
      });
      setForm(null);
    } catch (error) {
      const fields = fieldErrorsOf(error) ?? {};
      const byField: Record<string, string> = {};
      for (const [key, value] of Object.entries(fields)) byField[key.replace(/^settings\./, "")] = value;
      setFormErrors(
        Object.keys(byField).length > 0
          ? byField
          : { form: error instanceof Error ? error.message : "Not saved." },
      );
    }
  }

  if (!data) return null;
  const { totals, balance, grants } = data;
  return (
    <Card data-testid="minute-packs" className="space-y-4">
      <div>
        <h2 className="mb-1 text-lg font-semibold">Minute packs</h2>
        <p className="text-sm text-slate-600">
          Prepaid minutes used after your package's included minutes and before any overage (or the hard cap),
          the pack that expires first used first.
        </p>
      </div>
      {justPaid ? (
        <Banner tone="success" title="Payment received">
          <p>Your pack is added as soon as the payment is confirmed; this page updates by itself.</p>
        </Banner>
      ) : null}
      {bought ? (
        <Banner tone="success" title="Pack bought">
          <p data-testid="pack-bought">{bought} was added to your balance.</p>
        </Banner>
      ) : null}
      {problem ? (
        <Banner tone="danger" title="Not bought">
          <p data-testid="pack-problem">{problem}</p>
        </Banner>
      ) : null}
      <div>
        <p className="text-xl font-semibold" data-testid="pack-balance">
          {formatNumber(balance.minutes)}{" "}
          <span className="text-base font-normal text-slate-500">pack minutes left</span>
        </p>
        {balance.nextExpiry ? (
          <p className="text-sm text-slate-600" data-testid="pack-next-expiry">
            {formatNumber(balance.nextExpiry.minutes)} of them expire on {formatDate(balance.nextExpiry.at)}.
          </p>
        ) : null}
        <p className="text-sm text-slate-600" data-testid="pack-ledger">
          Bought {formatNumber(totals.bought)} · used {formatNumber(totals.used)} · expired{" "}
          {formatNumber(totals.expired)} · left {formatNumber(totals.remaining)}
        </p>
      </div>
      {grants.length > 0 ? (
        <table className="w-full text-left text-sm" data-testid="pack-grants">
          <thead className="text-slate-500">
            <tr>
              <th className="px-2 py-1 font-medium">Pack</th>
              <th className="px-2 py-1 font-medium">Bought</th>
              <th className="px-2 py-1 text-right font-medium">Minutes</th>
              <th className="px-2 py-1 text-right font-medium">Used</th>
              <th className="px-2 py-1 text-right font-medium">Left</th>
              <th className="px-2 py-1 font-medium">Expires</th>
              <th className="px-2 py-1 font-medium">State</th>
            </tr>
          </thead>
          <tbody>
            {grants.map((g) => (
              <tr key={g.id} className="border-t border-slate-100">
                <td className="px-2 py-1">{g.packName ?? "Pack"}</td>
                <td className="px-2 py-1">{formatDate(g.grantedAt)}</td>
                <td className="px-2 py-1 text-right">{formatNumber(g.minutes)}</td>
                <td className="px-2 py-1 text-right">{formatNumber(g.used)}</td>
                <td className="px-2 py-1 text-right">
                  {g.state === "expired" ? `${formatNumber(g.expired)} expired` : formatNumber(g.remaining)}
                </td>
                <td className="px-2 py-1">{formatDate(g.expiresAt)}</td>
                <td className="px-2 py-1">{STATE_LABEL[g.state]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {packs.length > 0 ? (
        <div className="space-y-2">
          <h3 className="font-medium">Buy a pack</h3>
          <ul className="space-y-2">
            {packs.map((p) => (
              <li key={p.id} className="flex flex-wrap items-center gap-3" data-testid="pack-offer">
                <span className="min-w-56">
                  <strong>{p.name}</strong>: {formatNumber(p.minutes)} minutes for{" "}
                  {formatMoney({ amount: p.priceCents, currency: p.currency })} excl. tax, valid{" "}
                  {p.validityMonths} months
                </span>
                <Button type="button" disabled={buyCard.isPending} onClick={() => buy(p.id, p.name)}>
                  Buy with saved card
                </Button>
                <Button
                  type="button"
                  variant="secondary"
                  disabled={buyCheckout.isPending}
                  onClick={() => checkout(p.id)}
                >
                  Pay on checkout page
                </Button>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {packs.length > 0 ? (
        <div className="space-y-2" data-testid="auto-top-up">
          <h3 className="font-medium">Auto top-up</h3>
          <p className="text-sm text-slate-600">
            {settings
              ? `On: when fewer than ${formatNumber(settings.thresholdMinutes)} pack minutes are left, a pack is bought with your saved card (at most ${settings.maxPerMonth} a month).`
              : "Off. Buy a pack automatically with your saved card when your pack minutes run low."}
          </p>
          {topUp.data?.stopped ? (
            <Banner tone="danger" title="Auto top-up stopped">
              <p data-testid="auto-top-up-stopped">
                {topUp.data.stopped.message ?? "The last top-up failed."} Save the settings again to turn it
                back on.
              </p>
            </Banner>
          ) : null}
          {(topUp.data?.thisMonth ?? []).length > 0 ? (
            <ul className="text-sm text-slate-600" data-testid="auto-top-up-history">
              {(topUp.data?.thisMonth ?? []).map((t) => (
                <li key={t.id}>
                  {formatDate(t.createdAt)}: {TOP_UP_LABEL[t.status] ?? t.status}
                </li>
              ))}
            </ul>
          ) : null}
          <form
            noValidate
            className="flex flex-wrap items-end gap-3"
            onSubmit={(event) => {
              event.preventDefault();
              void save(false);
            }}
          >
            <label className="flex flex-col text-sm font-medium text-slate-700">
              Pack
              <select
                className="mt-1 rounded-md border border-slate-300 px-2 py-2"
                value={current.packId}
                onChange={(e) => setForm({ ...current, packId: e.target.value })}
                aria-invalid={formErrors.packId ? true : undefined}
              >
                {packs.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name}
                  </option>
                ))}
              </select>
            </label>
            <div className="w-56">
              <Field
                label="When fewer than (minutes)"
                inputMode="numeric"
                value={current.threshold}
                onChange={(e) => setForm({ ...current, threshold: e.target.value })}
                error={formErrors.thresholdMinutes}
              />
            </div>
            <div className="w-36">
              <Field
                label="At most a month"
                inputMode="numeric"
                value={current.max}
                onChange={(e) => setForm({ ...current, max: e.target.value })}
                error={formErrors.maxPerMonth}
              />
            </div>
            <Button type="submit" disabled={saveTopUp.isPending}>
              {settings ? "Save auto top-up" : "Turn on auto top-up"}
            </Button>
            {settings ? (
              <Button
                type="button"
                variant="secondary"
                disabled={saveTopUp.isPending}
                onClick={() => save(true)}
              >
                Turn off
              </Button>
            ) : null}
          </form>
          {formErrors.form || formErrors.packId ? (
            <p className="text-sm text-red-700" role="alert">
              {formErrors.form ?? formErrors.packId}
            </p>
          ) : null}
        </div>
      ) : null}
    </Card>
  );
}
