// Coupons and their promotion codes: create (synced to Stripe), list, archive. The server checks every
// field (packages/domain `COUPON_LIMITS`) and names the one that is wrong; the form shows its message there.
import { COUPON_LIMITS, formatMoney } from "@minutely/domain";
import {
  Badge,
  Banner,
  Button,
  ConfirmDialog,
  EmptyState,
  ErrorState,
  ErrorSummary,
  Field,
  fieldErrorsOf,
  messageOf,
  Spinner,
  useIntentMutation,
} from "@minutely/ui";
import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { PageHeader, TableBox, td, th, theadRow } from "../components/ui-bits.tsx";
import { useDocumentTitle } from "../lib/document-title.ts";
import { type AdminOutputs, queryClient, trpc } from "../lib/trpc.ts";

type AdminCoupon = AdminOutputs["coupons"]["list"][number];
type Notice = { tone: "success" | "warning" | "danger"; message: string };

const listKey = trpc.coupons.list.queryKey();
const invalidate = () => queryClient.invalidateQueries({ queryKey: listKey });

/** "2027-03-01" (a date input) -> the end of that day, UTC; "" -> null. */
function endOfDay(value: string): Date | null {
  return value ? new Date(`${value}T23:59:59.000Z`) : null;
}

/** "12" -> 12, "" -> null; anything else is sent as typed so the server names the field. */
function optionalNumber(value: string): number | null {
  const trimmed = value.trim();
  return trimmed === "" ? null : Number(trimmed);
}

const formatDay = (d: Date | string | null) =>
  d
    ? new Date(d).toLocaleDateString("en-GB", {
        day: "numeric",
        month: "short",
        year: "numeric",
        timeZone: "UTC",
      })
    : "—";

function NewCouponForm({ onNotice }: { onNotice: (notice: Notice) => void }) {
  const packages = useQuery(trpc.packages.list.queryOptions());
  const [name, setName] = useState("");
  const [kind, setKind] = useState<"percent" | "amount">("percent");
  const [percent, setPercent] = useState("");
  const [amount, setAmount] = useState("");
  const [currency, setCurrency] = useState("usd");
  const [duration, setDuration] = useState<"once" | "repeating" | "forever">("once");
  const [months, setMonths] = useState("");
  const [redeemBy, setRedeemBy] = useState("");
  const [limit, setLimit] = useState("");
  const [packageIds, setPackageIds] = useState<string[]>([]);
  const create = useIntentMutation(
    trpc.coupons.create.mutationOptions({
      onSuccess: async ({ coupon, syncError }) => {
        onNotice(
          syncError
            ? {
                tone: "warning",
                message: `${coupon.name} is saved, but Stripe was not updated: ${syncError}`,
              }
            : { tone: "success", message: `${coupon.name} is created: ${coupon.summary}.` },
        );
        setName("");
        setPercent("");
        setAmount("");
        setMonths("");
        setRedeemBy("");
        setLimit("");
        setPackageIds([]);
        await invalidate();
      },
    }),
  );
  const errors = create.isError ? fieldErrorsOf(create.error) : {};
  const problems = [
    ["name", "coupon-name", "Name"],
    ["percentOff", "coupon-percent", "Percent off"],
    ["amountOffCents", "coupon-amount", "Amount off"],
    ["currency", "coupon-currency", "Currency"],
    ["duration", "coupon-duration", "Duration"],
    ["durationInMonths", "coupon-months", "Months"],
    ["redeemBy", "coupon-redeem-by", "Expires"],
    ["maxRedemptions", "coupon-limit", "Redemption limit"],
    ["packageIds", "coupon-packages", "Packages"],
  ].flatMap(([field, id, label]) => {
    const message = errors[field ?? ""];
    return message ? [{ id: id ?? "", label: label ?? "", message }] : [];
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const cents = amount.trim() === "" ? null : Math.round(Number(amount) * 100);
    create.mutate({
      name,
      percentOff: kind === "percent" ? optionalNumber(percent) : null,
      amountOffCents: kind === "amount" ? cents : null,
      currency: kind === "amount" ? (currency as "usd") : null,
      duration,
      durationInMonths: duration === "repeating" ? optionalNumber(months) : null,
      redeemBy: endOfDay(redeemBy),
      maxRedemptions: optionalNumber(limit),
      packageIds,
    });
  };
  return (
    <form
      onSubmit={submit}
      aria-labelledby="new-coupon-heading"
      className="space-y-4 rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200"
    >
      <h2 id="new-coupon-heading" className="text-lg font-semibold">
        New coupon
      </h2>
      <ErrorSummary problems={problems} />
      {create.isError && problems.length === 0 ? (
        <Banner tone="danger">{messageOf(create.error)}</Banner>
      ) : null}
      <div className="grid gap-4 md:grid-cols-3">
        <Field
          id="coupon-name"
          label="Name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={errors.name}
        />
        <fieldset className="flex flex-col gap-1">
          <legend className="text-sm font-medium text-slate-700">Discount</legend>
          <div className="flex gap-4 pt-2 text-sm">
            <label className="flex items-center gap-1">
              <input
                type="radio"
                name="kind"
                checked={kind === "percent"}
                onChange={() => setKind("percent")}
              />
              A percentage
            </label>
            <label className="flex items-center gap-1">
              <input
                type="radio"
                name="kind"
                checked={kind === "amount"}
                onChange={() => setKind("amount")}
              />
              An amount
            </label>
          </div>
        </fieldset>
        {kind === "percent" ? (
          <Field
            id="coupon-percent"
            label="Percent off"
            inputMode="numeric"
            value={percent}
            onChange={(e) => setPercent(e.target.value)}
            error={errors.percentOff}
            hint={`${COUPON_LIMITS.percentOff.min}–${COUPON_LIMITS.percentOff.max}, whole percent`}
          />
        ) : (
          <div className="grid grid-cols-2 gap-2">
            <Field
              id="coupon-amount"
              label="Amount off"
              inputMode="decimal"
              value={amount}
              onChange={(e) => setAmount(e.target.value)}
              error={errors.amountOffCents}
              hint="In major units, e.g. 10.00"
            />
            <div className="flex flex-col gap-1">
              <label htmlFor="coupon-currency" className="text-sm font-medium text-slate-700">
                Currency
              </label>
              <select
                id="coupon-currency"
                className="rounded-md border border-slate-300 px-3 py-2 text-sm"
                value={currency}
                onChange={(e) => setCurrency(e.target.value)}
              >
                <option value="usd">USD</option>
                <option value="eur">EUR</option>
                <option value="gbp">GBP</option>
              </select>
              {errors.currency ? <p className="text-sm text-red-700">{errors.currency}</p> : null}
            </div>
          </div>
        )}
        <div className="flex flex-col gap-1">
          <label htmlFor="coupon-duration" className="text-sm font-medium text-slate-700">
            Duration
          </label>
          <select
            id="coupon-duration"
            className="rounded-md border border-slate-300 px-3 py-2 text-sm"
            value={duration}
            onChange={(e) => setDuration(e.target.value as typeof duration)}
          >
            <option value="once">Once (the first invoice)</option>
            <option value="repeating">Repeating (a number of months)</option>
            <option value="forever">Forever</option>
          </select>
        </div>
        {duration === "repeating" ? (
          <Field
            id="coupon-months"
            label="Months"
            inputMode="numeric"
            value={months}
            onChange={(e) => setMonths(e.target.value)}
            error={errors.durationInMonths}
            hint={`${COUPON_LIMITS.durationInMonths.min}–${COUPON_LIMITS.durationInMonths.max}`}
          />
        ) : null}
        <Field
          id="coupon-redeem-by"
          label="Expires (optional)"
          type="date"
          value={redeemBy}
          onChange={(e) => setRedeemBy(e.target.value)}
          error={errors.redeemBy}
          hint="No redemption after this day (UTC); within 5 years"
        />
        <Field
          id="coupon-limit"
          label="Redemption limit (optional)"
          inputMode="numeric"
          value={limit}
          onChange={(e) => setLimit(e.target.value)}
          error={errors.maxRedemptions}
          hint={`1–${COUPON_LIMITS.maxRedemptions.max.toLocaleString("en-US")}`}
        />
      </div>
      <fieldset id="coupon-packages" tabIndex={-1}>
        <legend className="text-sm font-medium text-slate-700">Packages (none checked: every package)</legend>
        <div className="mt-1 flex flex-wrap gap-4 text-sm">
          {(packages.data ?? [])
            .filter((p) => p.active)
            .map((p) => (
              <label key={p.id} className="flex items-center gap-1">
                <input
                  type="checkbox"
                  checked={packageIds.includes(p.id)}
                  onChange={(e) =>
                    setPackageIds((ids) =>
                      e.target.checked ? [...ids, p.id] : ids.filter((id) => id !== p.id),
                    )
                  }
                />
                {p.name} ({formatMoney(p.monthlyPrice)})
              </label>
            ))}
        </div>
        {errors.packageIds ? <p className="text-sm text-red-700">{errors.packageIds}</p> : null}
      </fieldset>
      <Button type="submit" disabled={create.isPending}>
        {create.isPending ? "Creating…" : "Create coupon"}
      </Button>
    </form>
  );
}

function NewCodeForm({ coupon, onNotice }: { coupon: AdminCoupon; onNotice: (notice: Notice) => void }) {
  const [code, setCode] = useState("");
  const [expiresAt, setExpiresAt] = useState("");
  const [limit, setLimit] = useState("");
  const create = useIntentMutation(
    trpc.coupons.createCode.mutationOptions({
      onSuccess: async ({ promotionCode, syncError }) => {
        onNotice(
          syncError
            ? {
                tone: "warning",
                message: `${promotionCode.code} is saved, but Stripe was not updated: ${syncError}`,
              }
            : {
                tone: "success",
                message: `Customers can now use ${promotionCode.code} (${coupon.summary}).`,
              },
        );
        setCode("");
        setExpiresAt("");
        setLimit("");
        await invalidate();
      },
    }),
  );
  const errors = create.isError ? fieldErrorsOf(create.error) : {};
  return (
    <form
      aria-label={`Add a code to ${coupon.name}`}
      className="mt-2 flex flex-wrap items-start gap-2"
      onSubmit={(e) => {
        e.preventDefault();
        create.mutate({
          couponId: coupon.id,
          code,
          expiresAt: endOfDay(expiresAt),
          maxRedemptions: optionalNumber(limit),
        });
      }}
    >
      <Field
        id={`code-${coupon.id}`}
        label="New code"
        value={code}
        onChange={(e) => setCode(e.target.value)}
        error={errors.code}
        className="w-40 uppercase"
      />
      <Field
        id={`code-expires-${coupon.id}`}
        label="Expires (optional)"
        type="date"
        value={expiresAt}
        onChange={(e) => setExpiresAt(e.target.value)}
        error={errors.expiresAt}
      />
      <Field
        id={`code-limit-${coupon.id}`}
        label="Limit (optional)"
        inputMode="numeric"
        value={limit}
        onChange={(e) => setLimit(e.target.value)}
        error={errors.maxRedemptions}
        className="w-28"
      />
      <Button type="submit" variant="secondary" className="mt-6" disabled={create.isPending}>
        Add code
      </Button>
      {create.isError && Object.keys(errors).length === 0 ? (
        <p className="w-full text-sm text-red-700">{messageOf(create.error)}</p>
      ) : null}
    </form>
  );
}

export function CouponsPage() {
  useDocumentTitle("Coupons");
  const coupons = useQuery(trpc.coupons.list.queryOptions());
  const packages = useQuery(trpc.packages.list.queryOptions());
  const [notice, setNotice] = useState<Notice | null>(null);
  const [archiveTarget, setArchiveTarget] = useState<AdminCoupon | null>(null);
  const archive = useIntentMutation(
    trpc.coupons.archive.mutationOptions({
      onSuccess: async ({ coupon }) => {
        setArchiveTarget(null);
        setNotice({
          tone: "success",
          message: `${coupon.name} is archived: no new redemptions. Discounts already running continue.`,
        });
        await invalidate();
      },
    }),
  );
  const archiveCode = useIntentMutation(
    trpc.coupons.archiveCode.mutationOptions({
      onSuccess: async ({ promotionCode }) => {
        setNotice({
          tone: "success",
          message: `${promotionCode.code} is archived: customers can no longer use it.`,
        });
        await invalidate();
      },
    }),
  );
  const sync = useIntentMutation(trpc.coupons.sync.mutationOptions({ onSettled: () => invalidate() }));
  const packageName = (id: string) => packages.data?.find((p) => p.id === id)?.name ?? "a removed package";
  return (
    <div className="flex flex-col gap-6">
      <PageHeader
        title="Coupons"
        description="Discounts customers redeem with a promotion code at package selection or in Checkout, or that you apply to one customer's subscription. Archiving stops new redemptions; discounts already running continue."
      />
      {notice ? <Banner tone={notice.tone}>{notice.message}</Banner> : null}
      {archiveCode.isError ? <Banner tone="danger">{messageOf(archiveCode.error)}</Banner> : null}
      {sync.isError ? <Banner tone="danger">{messageOf(sync.error)}</Banner> : null}
      <NewCouponForm onNotice={setNotice} />
      {coupons.isPending ? <Spinner label="Loading coupons" /> : null}
      {coupons.isError ? (
        <ErrorState error={{ message: messageOf(coupons.error) }} onRetry={() => coupons.refetch()} />
      ) : null}
      {coupons.data && coupons.data.length === 0 ? <EmptyState title="No coupons yet" /> : null}
      {coupons.data && coupons.data.length > 0 ? (
        <TableBox label="Coupons table">
          <table className="w-full text-sm" aria-label="Coupons">
            <thead>
              <tr className={theadRow}>
                <th className={th}>Coupon</th>
                <th className={th}>Packages</th>
                <th className={th}>Expires</th>
                <th className={th}>Limit</th>
                <th className={th}>Subscriptions</th>
                <th className={th}>Status</th>
                <th className={th}>Promotion codes</th>
              </tr>
            </thead>
            <tbody>
              {coupons.data.map((c) => (
                <tr key={c.id} className="border-t border-slate-100" data-testid={`coupon-${c.name}`}>
                  <td className={td}>
                    <p className="font-medium">{c.name}</p>
                    <p className="text-slate-600">{c.summary}</p>
                  </td>
                  <td className={td}>
                    {c.packageIds.length === 0 ? "All" : c.packageIds.map(packageName).join(", ")}
                  </td>
                  <td className={td}>{formatDay(c.redeemBy)}</td>
                  <td className={td}>{c.maxRedemptions?.toLocaleString("en-US") ?? "—"}</td>
                  <td className={`${td} text-right`}>{c.subscriptions}</td>
                  <td className={td}>
                    <div className="flex flex-col items-start gap-1">
                      <Badge tone={c.active ? "success" : "neutral"}>
                        {c.active ? "Active" : "Archived"}
                      </Badge>
                      {c.synced ? (
                        <span className="text-xs text-slate-500">On Stripe</span>
                      ) : (
                        <Button variant="secondary" onClick={() => sync.mutate({ id: c.id })}>
                          Retry Stripe sync
                        </Button>
                      )}
                      {c.active ? (
                        <Button variant="secondary" onClick={() => setArchiveTarget(c)}>
                          Archive
                        </Button>
                      ) : null}
                    </div>
                  </td>
                  <td className={td}>
                    <ul className="space-y-1">
                      {c.promotionCodes.map((p) => (
                        <li key={p.id} className="flex flex-wrap items-center gap-2">
                          <code className="font-mono">{p.code}</code>
                          {p.active ? null : <Badge tone="neutral">archived</Badge>}
                          {p.expiresAt ? (
                            <span className="text-xs text-slate-500">until {formatDay(p.expiresAt)}</span>
                          ) : null}
                          {p.maxRedemptions ? (
                            <span className="text-xs text-slate-500">
                              max {p.maxRedemptions.toLocaleString("en-US")}
                            </span>
                          ) : null}
                          {p.active ? (
                            <button
                              type="button"
                              className="text-xs font-medium text-brand-700 underline"
                              onClick={() => archiveCode.mutate({ id: p.id })}
                            >
                              Archive {p.code}
                            </button>
                          ) : null}
                        </li>
                      ))}
                    </ul>
                    {c.active ? <NewCodeForm coupon={c} onNotice={setNotice} /> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      ) : null}
      {archiveTarget ? (
        <ConfirmDialog
          open
          title={`Archive ${archiveTarget.name}?`}
          description="Its codes stop working and no one can redeem it any more. Subscriptions that already have the discount keep it until it ends."
          confirmLabel="Archive coupon"
          pending={archive.isPending}
          onConfirm={() => archive.mutate({ id: archiveTarget.id })}
          onOpenChange={(open) => !open && setArchiveTarget(null)}
        />
      ) : null}
    </div>
  );
}

/** On a customer's page: put an active coupon on their current subscription (from the next invoice on). */
export function ApplyCouponForm({ accountId }: { accountId: string }) {
  const coupons = useQuery(trpc.coupons.list.queryOptions());
  const [couponId, setCouponId] = useState("");
  const apply = useIntentMutation(
    trpc.coupons.applyToSubscription.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries();
      },
    }),
  );
  const active = (coupons.data ?? []).filter((c) => c.active);
  if (active.length === 0) return null;
  return (
    <form
      aria-label="Apply a coupon"
      className="flex flex-wrap items-end gap-2 text-sm"
      onSubmit={(e) => {
        e.preventDefault();
        apply.mutate({ accountId, couponId });
      }}
    >
      <div className="flex flex-col gap-1">
        <label htmlFor="apply-coupon" className="font-medium text-slate-700">
          Apply a coupon to this subscription
        </label>
        <select
          id="apply-coupon"
          className="rounded-md border border-slate-300 px-3 py-2"
          value={couponId}
          onChange={(e) => setCouponId(e.target.value)}
        >
          <option value="">Choose a coupon</option>
          {active.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}: {c.summary}
            </option>
          ))}
        </select>
      </div>
      <Button type="submit" variant="secondary" disabled={apply.isPending || couponId === ""}>
        {apply.isPending ? "Applying…" : "Apply coupon"}
      </Button>
      {apply.isError ? <p className="w-full text-red-700">{messageOf(apply.error)}</p> : null}
      {apply.data?.discount ? (
        <p className="w-full text-emerald-800" role="status">
          Applied: {apply.data.discount.summary}. The customer pays{" "}
          {formatMoney(apply.data.discount.discountedMonthlyPrice)}/month from the next invoice.
        </p>
      ) : null}
    </form>
  );
}
