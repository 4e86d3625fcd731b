import { formatMoney, lossesOnChange, type PlanLoss } from "@minutely/domain";
import {
  Badge,
  Banner,
  Button,
  Card,
  Dialog,
  ErrorState,
  ScrollArea,
  Spinner,
  useDocumentTitle,
  useIntentMutation,
  useNavigate,
  useSearch,
} from "@minutely/ui";
import { useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import {
  currencyForLocale,
  currencyLabel,
  parseShopCurrency,
  SHOP_CURRENCIES,
  type ShopCurrency,
} from "../lib/currency.ts";
import { setFlash } from "../lib/flash.ts";
import { formatAgents, formatCents, formatDate, formatNumber } from "../lib/format.ts";
import { packageChoice } from "../lib/package-choice.ts";
import { trpc } from "../lib/trpc.ts";

type Selection = Awaited<ReturnType<typeof useSelection>>["data"];
type Package = NonNullable<Selection>["packages"][number];

/** The package selection, priced in the account's billing currency once it has one, else in `currency`. */
function useSelection(currency?: ShopCurrency) {
  return useQuery(trpc.catalog.selection.queryOptions(currency ? { currency } : undefined));
}

/** Where the currency the customer picked is kept for the tab: a reload or a cancelled Checkout keeps it. */
const CHOSEN_CURRENCY_KEY = "minutely.chosenCurrency";

/** The currency the customer picked in this tab, else the browser's preferred one (its locale's). */
function initialCurrency(): ShopCurrency {
  let stored: string | null = null;
  try {
    stored = typeof sessionStorage === "undefined" ? null : sessionStorage.getItem(CHOSEN_CURRENCY_KEY);
  } catch {
    // Storage refused (a privacy mode): the locale's currency, as before a choice.
  }
  return (
    parseShopCurrency(stored) ??
    currencyForLocale(typeof navigator === "undefined" ? undefined : navigator.language)
  );
}

/** Keeps the customer's pick for the tab (best effort: without storage it lasts until the page reloads). */
function rememberCurrency(currency: ShopCurrency): void {
  try {
    sessionStorage.setItem(CHOSEN_CURRENCY_KEY, currency);
  } catch {
    // Storage refused: the choice holds for this page only.
  }
}

/**
 * The currency selector, shown while the account has no billing currency yet; afterwards the currency its
 * first purchase fixed is said instead (every later purchase is in it).
 */
function CurrencyChoice({
  billingCurrency,
  chosen,
  onChoose,
}: {
  billingCurrency: string | null;
  chosen: ShopCurrency;
  onChoose: (currency: ShopCurrency) => void;
}) {
  if (billingCurrency !== null) {
    return (
      <p className="text-sm text-slate-600" data-testid="billing-currency">
        Prices in {billingCurrency.toUpperCase()}, your account's billing currency.
      </p>
    );
  }
  return (
    <div className="flex items-center gap-2 text-sm">
      <label htmlFor="shop-currency" className="font-medium">
        Currency
      </label>
      <select
        id="shop-currency"
        className="rounded border border-slate-300 px-2 py-1"
        value={chosen}
        onChange={(event) => onChoose(event.target.value as ShopCurrency)}
      >
        {SHOP_CURRENCIES.map((c) => (
          <option key={c} value={c}>
            {currencyLabel(c)}
          </option>
        ))}
      </select>
      <span className="text-slate-500">Your first purchase fixes your account's currency.</span>
    </div>
  );
}

function UpgradeDialog({
  pkg,
  discount,
  onClose,
}: {
  pkg: Package;
  discount: { summary: string; code: string | null } | null | undefined;
  onClose: () => void;
}) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const preview = useQuery({
    ...trpc.subscription.previewUpgrade.queryOptions({ packageId: pkg.id }),
    staleTime: 0,
  });
  const upgrade = useIntentMutation(
    trpc.subscription.upgrade.mutationOptions({
      onSuccess: async (result) => {
        // The Billing page says what the upgrade did: the new plan, what was charged, what comes next.
        setFlash({ kind: "upgraded", upgrade: result.upgrade });
        await queryClient.invalidateQueries();
        onClose();
        await navigate({ to: "/billing" });
      },
      // The total changed since the preview (the billing address, so the tax, changed): show the new one.
      onError: async () => {
        await preview.refetch();
      },
    }),
  );
  return (
    <Dialog open onOpenChange={(open) => !open && onClose()} title={`Upgrade to ${pkg.name}`}>
      {preview.isPending ? <Spinner label="Calculating your prorated price" /> : null}
      {preview.isError ? <ErrorState error={preview.error} /> : null}
      {preview.data ? (
        <div className="mt-4 space-y-4">
          <p className="text-sm text-slate-600">
            Your new package starts now. You are credited for the unused time on your current package and
            charged for the rest of this period on {pkg.name}.
          </p>
          {discount ? (
            <p className="text-sm text-slate-600" data-testid="preview-discount">
              Your discount{discount.code ? ` (code ${discount.code})` : ""} stays on your subscription:{" "}
              {discount.summary}. The amounts below include it where Stripe applies it to the new package.
            </p>
          ) : null}
          <dl className="space-y-1 text-sm" aria-label="Proration preview">
            <div className="flex justify-between">
              <dt>Credit for unused time</dt>
              <dd data-testid="preview-credit">
                {formatCents(preview.data.creditCents, preview.data.currency)}
              </dd>
            </div>
            <div className="flex justify-between">
              <dt>{pkg.name} for the rest of the period</dt>
              <dd data-testid="preview-charge">
                {formatCents(preview.data.chargeCents, preview.data.currency)}
              </dd>
            </div>
            <div className="flex justify-between">
              <dt>Tax</dt>
              <dd data-testid="preview-tax">{formatCents(preview.data.taxCents, preview.data.currency)}</dd>
            </div>
            <div className="flex justify-between border-t border-slate-200 pt-1 font-semibold">
              <dt>Total due now (tax included)</dt>
              <dd data-testid="preview-total">
                {formatCents(preview.data.totalDueNowCents, preview.data.currency)}
              </dd>
            </div>
          </dl>
          {preview.data.withdrawnOverageCents > 0 ? (
            <p className="text-sm text-slate-600" data-testid="preview-withdrawn-overage">
              {pkg.name} covers this whole period, so the overage of{" "}
              {formatCents(preview.data.withdrawnOverageCents, preview.data.currency)} reported so far is
              withdrawn and not charged.
            </p>
          ) : null}
          {upgrade.isError ? <Banner tone="danger">{upgrade.error.message}</Banner> : null}
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={onClose}>
              Not now
            </Button>
            <Button
              disabled={upgrade.isPending}
              onClick={() =>
                upgrade.mutate({
                  packageId: pkg.id,
                  prorationDate: new Date(preview.data.prorationDate),
                  expectedTotalCents: preview.data.totalDueNowCents,
                })
              }
            >
              {upgrade.isPending
                ? "Upgrading…"
                : `Pay ${formatCents(preview.data.totalDueNowCents, preview.data.currency)} and upgrade`}
            </Button>
          </div>
        </div>
      ) : null}
    </Dialog>
  );
}

type CodeCheck = Awaited<ReturnType<typeof useCodeChecks>>[number]["data"];

/** The applied code checked against every package the account may choose (the price each would cost). */
function useCodeChecks(code: string | null, packageIds: readonly string[], currency: ShopCurrency) {
  return useQueries({
    queries: packageIds.map((packageId) => ({
      ...trpc.subscription.checkPromotionCode.queryOptions({ packageId, code: code ?? "", currency }),
      enabled: code !== null,
      staleTime: 0,
    })),
  });
}

/** The code field of the package page: the prices below show what the code takes off, or why it does not. */
function PromotionCodeField({
  applied,
  checks,
  onApply,
}: {
  applied: string | null;
  checks: readonly (CodeCheck | undefined)[];
  onApply: (code: string | null) => void;
}) {
  const [typed, setTyped] = useState(applied ?? "");
  const [empty, setEmpty] = useState(false);
  const results = checks.filter((c): c is NonNullable<CodeCheck> => c !== undefined);
  const accepted = results.some((c) => c.valid);
  // A refusal that is not about one package (invalid, expired, …) is the same for all: said once here.
  const refusal = results
    .map((c) => (c.valid ? null : c))
    .find((c) => c !== null && c.reason !== "not_applicable");
  const notForAny = !accepted && !refusal && results.length > 0 && results.length === checks.length;
  const messageId = "promotion-code-message";
  return (
    <form
      className="flex flex-wrap items-end gap-2"
      onSubmit={(e) => {
        e.preventDefault();
        const code = typed.trim();
        setEmpty(code === "");
        onApply(code === "" ? null : code);
      }}
    >
      <label className="flex flex-col text-sm font-medium">
        Promotion code
        <input
          className="mt-1 w-56 rounded-md border border-slate-300 px-3 py-2 font-normal uppercase"
          value={typed}
          maxLength={100}
          autoComplete="off"
          aria-invalid={Boolean(refusal) || notForAny || empty}
          aria-describedby={messageId}
          onChange={(e) => setTyped(e.target.value)}
        />
      </label>
      <Button type="submit" variant="secondary">
        Apply
      </Button>
      {applied ? (
        <Button
          type="button"
          variant="secondary"
          onClick={() => {
            setTyped("");
            onApply(null);
          }}
        >
          Remove
        </Button>
      ) : null}
      <p id={messageId} className="w-full text-sm" role="status" data-testid="promotion-code-message">
        {empty ? <span className="text-red-700">Type a promotion code first.</span> : null}
        {refusal ? <span className="text-red-700">{refusal.message}</span> : null}
        {notForAny ? (
          <span className="text-red-700">{`The promotion code "${applied}" does not apply to these packages.`}</span>
        ) : null}
        {accepted ? (
          <span className="text-emerald-800">
            Code {results.find((c) => c.valid)?.code} applied. The prices below include it.
          </span>
        ) : null}
      </p>
    </form>
  );
}

/** One line of what the change takes away, from the packages' data (lossesOnChange in packages/domain). */
function lossText(loss: PlanLoss): string {
  switch (loss.kind) {
    case "feature":
      return loss.label;
    case "callMinutes":
      return `Call minutes: ${loss.from.toLocaleString("en-US")} a month → ${loss.to.toLocaleString("en-US")}`;
    case "agents":
      return `Active agents: ${loss.from} → ${loss.to}`;
    case "overage":
      return `Calls beyond the included minutes (billed at ${formatMoney(loss.price)}/minute): they stop at the limit instead`;
  }
}

const downgradeQueries = () => [trpc.agents.list.queryOptions(), trpc.apiKeys.list.queryOptions()] as const;

function DowngradeDialog({
  pkg,
  current,
  periodEnd,
  onClose,
}: {
  pkg: Package;
  current: Package;
  periodEnd: Date | null;
  onClose: () => void;
}) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  // Loaded before the dialog opens (PackagesPage), so nothing below appears late and moves the buttons.
  const [agentsQuery, keysQuery] = downgradeQueries();
  const agents = useQuery(agentsQuery);
  const keys = useQuery(keysQuery);
  const active = (agents.data?.agents ?? []).filter((a) => a.active);
  const activeKeys = (keys.data?.keys ?? []).filter((k) => !k.revokedAt);
  const mustChoose = active.length > pkg.agentsAllowed;
  const [keep, setKeep] = useState<string[]>([]);
  const losses = lossesOnChange(current, pkg);
  const losesApi = losses.some((loss) => loss.kind === "feature" && loss.feature === "apiAccess");
  const losesAnalytics = losses.some((loss) => loss.kind === "feature" && loss.feature === "analytics");
  const on = formatDate(periodEnd);
  const allowed = `${pkg.agentsAllowed} ${pkg.agentsAllowed === 1 ? "agent" : "agents"}`;
  const downgrade = useIntentMutation(
    trpc.subscription.downgrade.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries();
        onClose();
        await navigate({ to: "/billing" });
      },
    }),
  );
  return (
    <Dialog open onOpenChange={(open) => !open && onClose()} title={`Change to ${pkg.name}`}>
      <div className="mt-4 space-y-4 text-sm">
        <p>
          You keep your current package until <strong>{on}</strong>; then your subscription changes to{" "}
          {pkg.name} at {formatMoney(pkg.monthlyPrice)}/month. You can cancel the change until then.
        </p>
        {losses.length > 0 ? (
          <div className="rounded-md bg-amber-50 p-3" data-testid="downgrade-losses">
            <p className="font-medium">
              On {on} you lose what {current.name} has and {pkg.name} does not:
            </p>
            <ul className="mt-1 list-disc space-y-0.5 pl-5">
              {losses.map((loss) => (
                <li key={loss.kind === "feature" ? loss.feature : loss.kind}>{lossText(loss)}</li>
              ))}
            </ul>
            {losesAnalytics ? (
              <p className="mt-2">The Analytics page closes; your usage totals and daily minutes stay.</p>
            ) : null}
            {losesApi ? (
              <p className="mt-2" data-testid="downgrade-api-keys">
                {activeKeys.length === 0
                  ? "API keys can no longer be created."
                  : `Your ${activeKeys.length === 1 ? "API key stops" : `${activeKeys.length} API keys stop`} working on ${on} (requests get 403). ${activeKeys.length === 1 ? "It is" : "They are"} not deleted: on a package with API access again, ${activeKeys.length === 1 ? "it works" : "they work"} again.`}
              </p>
            ) : null}
          </div>
        ) : null}
        {mustChoose ? (
          <fieldset className="space-y-2" data-testid="downgrade-agents">
            <legend className="font-medium">
              {pkg.name} allows {allowed} and {active.length} are active. Choose which stay active; the others
              are deactivated on {on} (not deleted: you can switch agents later within the allowance).
            </legend>
            {active.map((agent) => (
              <label key={agent.id} className="flex items-center gap-2">
                <input
                  type="checkbox"
                  checked={keep.includes(agent.id)}
                  disabled={!keep.includes(agent.id) && keep.length >= pkg.agentsAllowed}
                  onChange={(e) =>
                    setKeep((current) =>
                      e.target.checked ? [...current, agent.id] : current.filter((id) => id !== agent.id),
                    )
                  }
                />
                {agent.name}
              </label>
            ))}
          </fieldset>
        ) : losses.some((loss) => loss.kind === "agents") ? (
          <p data-testid="downgrade-agents">
            Your {active.length === 1 ? "active agent fits" : `${active.length} active agents fit`} within{" "}
            {allowed}. Agents activated beyond that before {on} are deactivated then, the oldest staying
            active.
          </p>
        ) : null}
        {downgrade.isError ? <Banner tone="danger">{downgrade.error.message}</Banner> : null}
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={onClose}>
            Keep my package
          </Button>
          <Button
            disabled={downgrade.isPending || agents.isPending}
            onClick={() =>
              downgrade.mutate({ packageId: pkg.id, ...(mustChoose ? { keepAgentIds: keep } : {}) })
            }
          >
            {downgrade.isPending ? "Scheduling…" : `Change to ${pkg.name} on ${on}`}
          </Button>
        </div>
      </div>
    </Dialog>
  );
}

export function PackagesPage() {
  const [chosenCurrency, setChosenCurrency] = useState<ShopCurrency>(initialCurrency);
  const chooseCurrency = (currency: ShopCurrency) => {
    rememberCurrency(currency);
    setChosenCurrency(currency);
  };
  const selection = useSelection(chosenCurrency);
  // What a purchase is made in: the account's billing currency once it has one, else the one chosen.
  const buyIn = (selection.data?.billingCurrency as ShopCurrency | null | undefined) ?? chosenCurrency;
  const overview = useQuery(trpc.subscription.overview.queryOptions());
  const search = useSearch("/packages");
  const queryClient = useQueryClient();
  const [dialog, setDialog] = useState<{ kind: "upgrade" | "downgrade"; pkg: Package } | null>(null);
  useDocumentTitle(selection.data?.needsPackageSelection ? "Choose your package" : "Subscription & Packages");
  const [opening, setOpening] = useState<string | null>(null);
  /** The downgrade dialog opens with its agents and keys loaded, so it does not grow after it opened. */
  const openDowngrade = async (pkg: Package) => {
    setOpening(pkg.id);
    try {
      const [agentsQuery, keysQuery] = downgradeQueries();
      await Promise.all([queryClient.ensureQueryData(agentsQuery), queryClient.ensureQueryData(keysQuery)]);
    } catch {
      // The dialog shows what it has; the server still checks the agents chosen.
    } finally {
      setOpening(null);
    }
    setDialog({ kind: "downgrade", pkg });
  };
  const [code, setCode] = useState<string | null>(null);
  const choosable =
    selection.data && overview.data
      ? selection.data.packages
          .filter(
            (pkg) =>
              packageChoice(pkg, {
                current: null,
                needsPackageSelection: selection.data.needsPackageSelection,
                scheduledPackageId: null,
              }).kind === "choose",
          )
          .map((pkg) => pkg.id)
      : [];
  const codeChecks = useCodeChecks(code, choosable, buyIn);
  const checkOf = (packageId: string) => codeChecks[choosable.indexOf(packageId)]?.data;
  const navigate = useNavigate();
  const subscribe = useIntentMutation(
    trpc.subscription.subscribe.mutationOptions({
      onSuccess: async (result) => {
        if (result.kind === "checkout") window.location.assign(result.url);
        else {
          // A trial without a card starts at once: nothing to pay, straight to the dashboard (every cached
          // read refetched first, the dashboard's too: its cached "choose a package" would send us back).
          await queryClient.invalidateQueries({ refetchType: "all" });
          await navigate({ to: "/" });
        }
      },
    }),
  );
  if (selection.isPending || overview.isPending) return <Spinner label="Loading packages" />;
  if (selection.isError) return <ErrorState error={selection.error} onRetry={() => selection.refetch()} />;
  if (overview.isError) return <ErrorState error={overview.error} onRetry={() => overview.refetch()} />;
  const { packages, comparison, currentPackageId, needsPackageSelection } = selection.data;
  const current = packages.find((p) => p.id === currentPackageId) ?? null;
  const sub = overview.data;
  return (
    <div className="space-y-8">
      <div>
        <h1 className="text-2xl font-bold">
          {needsPackageSelection ? "Choose your package" : "Subscription & Packages"}
        </h1>
        <p className="text-slate-600">Call minutes and agents for your voice AI, billed monthly.</p>
      </div>
      {search.checkout === "cancelled" && !sub.grantsAccess ? (
        <Banner tone="info" title="Checkout cancelled">
          Nothing was charged. Choose a package when you are ready.
        </Banner>
      ) : null}
      {subscribe.isError ? <Banner tone="danger">{subscribe.error.message}</Banner> : null}
      <CurrencyChoice
        billingCurrency={selection.data.billingCurrency}
        chosen={chosenCurrency}
        onChoose={chooseCurrency}
      />
      {needsPackageSelection ? (
        <PromotionCodeField applied={code} checks={codeChecks.map((c) => c.data)} onApply={setCode} />
      ) : null}
      <ul className="grid gap-4 md:grid-cols-3" aria-label="Packages">
        {packages.map((pkg) => {
          const isCurrent = pkg.id === currentPackageId;
          const choice = packageChoice(pkg, {
            current,
            needsPackageSelection,
            scheduledPackageId: sub.scheduledChange?.packageId ?? null,
          });
          const cheaper = choice.kind === "downgrade";
          const check = choice.kind === "choose" ? checkOf(pkg.id) : undefined;
          const discounted = check?.valid ? check : null;
          // The trial subscribing starts (one per account, ever): offered only to those who may choose.
          const trial = choice.kind === "choose" ? pkg.trialOffer : null;
          return (
            <li key={pkg.id}>
              <Card
                className={`flex h-full flex-col ${pkg.recommended ? "ring-2 ring-brand-500" : ""}`}
                data-testid={`package-${pkg.name}`}
              >
                <div className="flex flex-wrap items-center justify-between gap-2">
                  <h2 className="text-lg font-semibold">{pkg.name}</h2>
                  <div className="flex gap-1">
                    {isCurrent ? <Badge tone="success">Current plan</Badge> : null}
                    {pkg.recommended ? <Badge tone="brand">Recommended</Badge> : null}
                    {trial ? <Badge tone="success">{trial.days}-day free trial</Badge> : null}
                  </div>
                </div>
                {discounted ? (
                  <div className="mt-2" data-testid="discounted-price">
                    <p className="text-3xl font-bold">
                      {formatMoney(discounted.discountedPrice)}
                      <span className="text-base font-normal text-slate-500">/month excl. tax</span>
                    </p>
                    <p className="text-sm text-slate-600">
                      <span className="sr-only">instead of </span>
                      <s>{formatMoney(pkg.monthlyPrice)}</s> · {discounted.summary} with {discounted.code}
                    </p>
                  </div>
                ) : (
                  <p className="mt-2 text-3xl font-bold">
                    {formatMoney(pkg.monthlyPrice)}
                    <span className="text-base font-normal text-slate-500">/month excl. tax</span>
                  </p>
                )}
                {check && !check.valid && check.reason === "not_applicable" ? (
                  <p className="mt-1 text-sm text-slate-600" data-testid="code-not-applicable">
                    {check.code} does not apply to {pkg.name}.
                  </p>
                ) : null}
                <p className="mt-1 text-sm text-slate-600">{pkg.description}</p>
                <ul className="mt-4 flex-1 space-y-1 text-sm">
                  <li>{formatNumber(pkg.callMinutesLimit)} call minutes</li>
                  <li>{formatAgents(pkg.agentsAllowed)}</li>
                  <li>{pkg.features.analytics ? "Analytics" : "No analytics"}</li>
                  <li>{pkg.features.apiAccess ? "API access" : "No API access"}</li>
                  <li>
                    {pkg.overagePricePerMinute
                      ? `Then ${formatMoney(pkg.overagePricePerMinute)}/minute`
                      : "Calls pause at the limit"}
                  </li>
                </ul>
                <div className="mt-4">
                  {choice.kind === "unavailable" ? (
                    <p className="text-center text-sm text-slate-500" data-testid="package-unavailable">
                      {choice.reason}
                    </p>
                  ) : choice.kind === "choose" ? (
                    <Button
                      className="w-full"
                      disabled={subscribe.isPending}
                      onClick={() =>
                        subscribe.mutate({
                          packageId: pkg.id,
                          currency: buyIn,
                          ...(discounted ? { promotionCode: discounted.code } : {}),
                        })
                      }
                    >
                      {subscribe.isPending && subscribe.variables?.packageId === pkg.id
                        ? trial && !trial.requiresCard
                          ? "Starting trial…"
                          : "Opening checkout…"
                        : trial
                          ? `Start ${trial.days}-day free trial`
                          : `Choose ${pkg.name}`}
                    </Button>
                  ) : null}
                  {choice.kind === "choose" && trial ? (
                    <p className="mt-2 text-center text-xs text-slate-600" data-testid="trial-terms">
                      {trial.requiresCard
                        ? `Card required. Nothing is charged until the trial ends, then ${formatMoney(pkg.monthlyPrice)}/month.`
                        : "No card required. Calls stop at the included minutes during the trial."}
                    </p>
                  ) : choice.kind === "choose" && pkg.trial ? (
                    <p className="mt-2 text-center text-xs text-slate-500" data-testid="trial-used">
                      Your account has had its free trial.
                    </p>
                  ) : choice.kind === "choose" || choice.kind === "unavailable" ? null : choice.kind ===
                    "current" ? (
                    <p className="text-center text-sm text-slate-500">Your package</p>
                  ) : choice.kind === "scheduled" ? (
                    <p className="text-center text-sm text-slate-500">
                      Starts {formatDate(sub.scheduledChange?.effectiveAt)}
                    </p>
                  ) : (
                    <Button
                      className="w-full"
                      variant={cheaper ? "secondary" : "primary"}
                      disabled={sub.cancelAtPeriodEnd || sub.scheduledChange !== null || !sub.grantsAccess}
                      // While the downgrade dialog's data loads the button keeps focus (aria-disabled, not
                      // disabled: a disabled button drops focus to the page, and the dialog then had nothing
                      // to give focus back to on Escape).
                      aria-disabled={opening !== null ? true : undefined}
                      onClick={() => {
                        if (opening !== null) return;
                        if (cheaper) void openDowngrade(pkg);
                        else setDialog({ kind: "upgrade", pkg });
                      }}
                    >
                      {cheaper
                        ? opening === pkg.id
                          ? "Loading…"
                          : `Downgrade to ${pkg.name}`
                        : `Upgrade to ${pkg.name}`}
                    </Button>
                  )}
                </div>
              </Card>
            </li>
          );
        })}
      </ul>
      {!needsPackageSelection && (sub.cancelAtPeriodEnd || sub.scheduledChange) ? (
        <Banner tone="info">
          {sub.cancelAtPeriodEnd
            ? `Your subscription ends on ${formatDate(sub.currentPeriodEnd)}. Resume it on the billing page to change packages.`
            : `Changes to ${sub.scheduledChange?.packageName} on ${formatDate(sub.scheduledChange?.effectiveAt)}. Cancel that change on the billing page to pick another.`}
        </Banner>
      ) : null}
      <Card>
        <h2 className="mb-3 text-lg font-semibold">Compare packages</h2>
        <ScrollArea label="Package comparison table" className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead>
              <tr>
                <th scope="col" className="py-2 pr-4">
                  Feature
                </th>
                {packages.map((pkg) => (
                  <th key={pkg.id} scope="col" className="py-2 pr-4">
                    {pkg.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {comparison.map((row) => (
                <tr key={row.feature} className="border-t border-slate-100">
                  <th scope="row" className="py-2 pr-4 font-medium">
                    {row.feature}
                  </th>
                  {row.cells.map((cell) => (
                    <td key={cell.planName} className="py-2 pr-4">
                      {cell.value}
                    </td>
                  ))}
                </tr>
              ))}
              <tr className="border-t border-slate-100" data-testid="comparison-trial">
                <th scope="row" className="py-2 pr-4 font-medium">
                  Free trial
                </th>
                {packages.map((pkg) => (
                  <td key={pkg.id} className="py-2 pr-4">
                    {pkg.trial ? `${pkg.trial.days} days${pkg.trial.requiresCard ? "" : ", no card"}` : "—"}
                  </td>
                ))}
              </tr>
            </tbody>
          </table>
        </ScrollArea>
      </Card>
      {dialog?.kind === "upgrade" ? (
        <UpgradeDialog pkg={dialog.pkg} discount={sub.discount} onClose={() => setDialog(null)} />
      ) : null}
      {dialog?.kind === "downgrade" && current ? (
        <DowngradeDialog
          pkg={dialog.pkg}
          current={current}
          periodEnd={sub.currentPeriodEnd ? new Date(sub.currentPeriodEnd) : null}
          onClose={() => setDialog(null)}
        />
      ) : null}
    </div>
  );
}
