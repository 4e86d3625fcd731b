import { zodResolver } from "@hookform/resolvers/zod";
import { CURRENCIES, formatMoney } from "@minutely/domain";
import {
  Badge,
  Banner,
  Button,
  Card,
  CheckboxField,
  EmptyState,
  ErrorState,
  ErrorSummary,
  Field,
  fieldErrorsOf,
  Link,
  messageOf,
  problemsOf,
  SelectField,
  Spinner,
  TextAreaField,
  useIntentMutation,
  useNavigate,
} from "@minutely/ui";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useForm } from "react-hook-form";
import { PriceHistory } from "../components/price-history.tsx";
import { useDocumentTitle } from "../lib/document-title.ts";
import { sentence, setFlash } from "../lib/flash.ts";
import { formatNumber } from "../lib/format.ts";
import {
  CURRENCY_OPTIONS,
  CURRENCY_PRICE_FIELDS,
  EMPTY_PACKAGE_FORM,
  formValuesOf,
  mapServerFieldErrors,
  type PackageFormField,
  PackageFormSchema,
  type PackageFormValues,
  parseAmountToCents,
  parseWholeNumber,
} from "../lib/package-form.ts";
import { type AdminPackage, type PackageInput, queryClient, trpc } from "../lib/trpc.ts";

const listQuery = trpc.packages.list.queryOptions();

function BackLink() {
  return (
    <Link to="/packages" className="text-sm font-medium text-brand-700 hover:underline">
      ← All packages
    </Link>
  );
}

/** Moves focus to the page heading when the page opens, so keyboard and screen reader users start there. */
function useFocusOnMount<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  useEffect(() => ref.current?.focus(), []);
  return ref;
}

/** The form's fields in the order on screen, for its error summary. */
const PACKAGE_FIELDS = [
  { name: "name", id: "package-name", label: "Name" },
  { name: "description", id: "package-description", label: "Description" },
  { name: "price", id: "package-price", label: "Price per month" },
  { name: "currency", id: "package-currency", label: "Currency" },
  { name: "callMinutesLimit", id: "package-callMinutesLimit", label: "Call minutes included" },
  { name: "agentsAllowed", id: "package-agentsAllowed", label: "Agents allowed" },
  { name: "analyticsAccess", id: "package-analyticsAccess", label: "Analytics access" },
  { name: "apiAccess", id: "package-apiAccess", label: "API access" },
  { name: "overageCents", id: "package-overageCents", label: "Overage price per minute (cents)" },
  { name: "usdPrice", id: "package-usdPrice", label: "Monthly price in USD" },
  { name: "usdOverageCents", id: "package-usdOverageCents", label: "Overage in USD (cents a minute)" },
  { name: "eurPrice", id: "package-eurPrice", label: "Monthly price in EUR" },
  { name: "eurOverageCents", id: "package-eurOverageCents", label: "Overage in EUR (cents a minute)" },
  { name: "gbpPrice", id: "package-gbpPrice", label: "Monthly price in GBP" },
  { name: "gbpOverageCents", id: "package-gbpOverageCents", label: "Overage in GBP (cents a minute)" },
  { name: "recommended", id: "package-recommended", label: "Recommended" },
  { name: "trialDays", id: "package-trialDays", label: "Trial length (days)" },
  { name: "trialRequiresCard", id: "package-trialRequiresCard", label: "Card required to start the trial" },
];

export function NewPackagePage() {
  useDocumentTitle("New package");
  const packages = useQuery(listQuery);
  const create = useIntentMutation(trpc.packages.create.mutationOptions());
  return (
    <PackageForm
      title="New package"
      submitLabel="Create package"
      defaultValues={EMPTY_PACKAGE_FORM}
      others={packages.data ?? []}
      onSave={(input) => create.mutateAsync(input)}
      successMessage={(name) => `Created ${name}. It is listed last; move it where customers should see it.`}
    />
  );
}

export function EditPackagePage({ id }: { id: string }) {
  const packages = useQuery(listQuery);
  const update = useIntentMutation(trpc.packages.update.mutationOptions());
  const pkg = packages.data?.find((p) => p.id === id);
  useDocumentTitle(pkg ? `Edit ${pkg.name}` : "Edit package");

  if (packages.isPending) return <Spinner label="Loading the package" />;
  if (packages.isError) {
    return <ErrorState error={{ message: messageOf(packages.error) }} onRetry={() => packages.refetch()} />;
  }
  if (!pkg) {
    return (
      <div className="flex flex-col gap-4">
        <BackLink />
        <EmptyState title="No such package">
          <p>It may have been removed, or the link is wrong.</p>
        </EmptyState>
      </div>
    );
  }
  return (
    <PackageForm
      key={pkg.id}
      title={`Edit ${pkg.name}`}
      submitLabel="Save changes"
      pkg={pkg}
      defaultValues={formValuesOf(pkg)}
      others={packages.data.filter((p) => p.id !== pkg.id)}
      onSave={(values) => update.mutateAsync({ id: pkg.id, values })}
      successMessage={(name) => `Saved ${name}.`}
    />
  );
}

function PackageForm({
  title,
  submitLabel,
  pkg,
  defaultValues,
  others,
  onSave,
  successMessage,
}: {
  title: string;
  submitLabel: string;
  /** The package being edited; absent when creating. */
  pkg?: AdminPackage;
  defaultValues: PackageFormValues;
  /** Every other package (for the recommended hint). */
  others: AdminPackage[];
  onSave: (input: PackageInput) => Promise<{ package: { name: string }; syncError: string | null }>;
  successMessage: (name: string) => string;
}) {
  const navigate = useNavigate();
  const heading = useFocusOnMount<HTMLHeadingElement>();
  const [formError, setFormError] = useState<string[] | null>(null);
  const saving = useRef(false);
  const form = useForm<PackageFormValues, unknown, PackageInput>({
    resolver: zodResolver(PackageFormSchema),
    defaultValues,
  });
  const { errors, isSubmitting } = form.formState;
  const [price, currency, hardCap, overageCents, recommended, offerTrial] = form.watch([
    "price",
    "currency",
    "hardCap",
    "overageCents",
    "recommended",
    "offerTrial",
  ]);

  const submit = form.handleSubmit(async (input) => {
    if (saving.current) return;
    saving.current = true;
    setFormError(null);
    try {
      const result = await onSave(input);
      await queryClient.invalidateQueries({ queryKey: trpc.packages.list.queryKey() });
      setFlash(
        result.syncError
          ? {
              tone: "warning",
              title: `${result.package.name} is saved, but it is not synced to Stripe`,
              message: `${sentence(result.syncError)} Customers cannot subscribe at the new terms until it is: use Retry in the Stripe column.`,
            }
          : { tone: "success", message: successMessage(result.package.name) },
      );
      await navigate({ to: "/packages" });
    } catch (error) {
      const { fields, other } = mapServerFieldErrors(fieldErrorsOf(error));
      const entries = Object.entries(fields) as [PackageFormField, string][];
      entries.forEach(([field, message], index) => {
        form.setError(field, { type: "server", message }, { shouldFocus: index === 0 });
      });
      if (other.length > 0) setFormError(other);
      else if (entries.length === 0) setFormError([messageOf(error)]);
    } finally {
      saving.current = false;
    }
  });

  const parsedPrice = parseAmountToCents(price);
  const pricePreview = parsedPrice.ok ? formatMoney({ amount: parsedPrice.value, currency }) : null;
  const priceChanged =
    pkg !== undefined &&
    parsedPrice.ok &&
    parsedPrice.value !== pkg.monthlyPrice.amount &&
    pkg.prices.length > 0;
  const parsedOverage = parseWholeNumber(overageCents);
  const currentRecommended = others.find((p) => p.recommended);
  const currencyLocked = pkg !== undefined && pkg.prices.length > 0;
  const archived = pkg !== undefined && !pkg.active;

  return (
    <div className="mx-auto flex max-w-3xl flex-col gap-4">
      <BackLink />
      <div className="flex flex-wrap items-center gap-3">
        <h1 ref={heading} tabIndex={-1} className="text-2xl font-bold focus:outline-none">
          {title}
        </h1>
        {pkg ? pkg.active ? <Badge tone="success">Active</Badge> : <Badge>Archived</Badge> : null}
      </div>

      <Card>
        <form onSubmit={submit} noValidate className="flex flex-col gap-5" aria-label={title}>
          {formError ? (
            <Banner tone="danger" title="The package was not saved">
              {formError.map((message) => (
                <p key={message}>{message}</p>
              ))}
            </Banner>
          ) : null}
          <ErrorSummary problems={problemsOf(errors, PACKAGE_FIELDS)} />

          <Field
            id="package-name"
            label="Name"
            autoComplete="off"
            maxLength={60}
            {...form.register("name")}
            error={errors.name?.message}
            hint="Shown to customers; must be unique."
          />
          <TextAreaField
            id="package-description"
            label="Description"
            rows={3}
            maxLength={500}
            {...form.register("description")}
            error={errors.description?.message}
            hint="Optional, up to 500 characters."
          />

          <fieldset className="flex flex-col gap-3">
            <legend className="mb-2 text-sm font-semibold text-slate-900">Monthly price</legend>
            <div className="grid gap-4 sm:grid-cols-[1fr_10rem]">
              <Field
                id="package-price"
                label="Price per month"
                inputMode="decimal"
                autoComplete="off"
                {...form.register("price")}
                error={errors.price?.message}
                hint={
                  pricePreview
                    ? `Customers pay ${pricePreview} a month.`
                    : "In major units with up to 2 decimals, e.g. 99.00."
                }
              />
              <SelectField
                id="package-currency"
                label="Currency"
                options={CURRENCY_OPTIONS}
                {...form.register("currency")}
                disabled={currencyLocked}
                error={errors.currency?.message}
                hint={currencyLocked ? "Fixed once the package has a Stripe price." : undefined}
              />
            </div>
            {priceChanged && pkg ? (
              <Banner tone="info">
                Saving creates a new Stripe price of {pricePreview} for new subscribers.{" "}
                {pkg.subscribers > 0
                  ? pkg.subscribers === 1
                    ? "The current subscriber keeps their price until they change plan."
                    : `The ${formatNumber(pkg.subscribers)} current subscribers keep their price until they change plan.`
                  : "Existing subscribers keep their price until they change plan."}
              </Banner>
            ) : null}
          </fieldset>

          <fieldset className="grid gap-4 sm:grid-cols-2">
            <legend className="mb-2 text-sm font-semibold text-slate-900">Limits</legend>
            <Field
              id="package-callMinutesLimit"
              label="Call minutes included"
              inputMode="numeric"
              autoComplete="off"
              {...form.register("callMinutesLimit")}
              error={errors.callMinutesLimit?.message}
              hint="Per billing period."
            />
            <Field
              id="package-agentsAllowed"
              label="Agents allowed"
              inputMode="numeric"
              autoComplete="off"
              {...form.register("agentsAllowed")}
              error={errors.agentsAllowed?.message}
              hint="At least 1."
            />
          </fieldset>

          <fieldset className="flex flex-col gap-3">
            <legend className="mb-2 text-sm font-semibold text-slate-900">Features</legend>
            <CheckboxField
              id="package-analyticsAccess"
              label="Analytics access"
              {...form.register("analyticsAccess")}
              error={errors.analyticsAccess?.message}
            />
            <CheckboxField
              id="package-apiAccess"
              label="API access"
              {...form.register("apiAccess")}
              error={errors.apiAccess?.message}
            />
          </fieldset>

          <fieldset className="flex flex-col gap-3">
            <legend className="mb-2 text-sm font-semibold text-slate-900">Beyond the included minutes</legend>
            <CheckboxField
              label="Hard cap (no overage)"
              {...form.register("hardCap", {
                onChange: () => form.clearErrors("overageCents"),
              })}
              hint="Calls stop at the included minutes and nothing extra is charged."
            />
            <div className="sm:max-w-xs">
              <Field
                id="package-overageCents"
                label="Overage price per minute (cents)"
                inputMode="numeric"
                autoComplete="off"
                className="disabled:cursor-not-allowed disabled:bg-slate-100 disabled:text-slate-400"
                {...form.register("overageCents")}
                disabled={hardCap}
                error={hardCap ? undefined : errors.overageCents?.message}
                hint={
                  hardCap
                    ? "Untick Hard cap to charge for minutes beyond the limit."
                    : parsedOverage.ok
                      ? `${formatMoney({ amount: parsedOverage.value, currency })} for each minute beyond the limit.`
                      : "Whole cents, e.g. 2 for 0.02 a minute."
                }
              />
            </div>
          </fieldset>

          <fieldset className="flex flex-col gap-3">
            <legend className="mb-2 text-sm font-semibold text-slate-900">Prices in other currencies</legend>
            <p className="text-sm text-slate-600">
              Optional. Each price is set for its market, never converted, and gets its own Stripe price.
              Customers without a billing currency yet may buy in any of them; an account's first purchase
              fixes its currency. A price live subscriptions bill in cannot be removed.
            </p>
            {CURRENCIES.filter((other) => other !== currency).map((other) => {
              const fields = CURRENCY_PRICE_FIELDS[other];
              const code = other.toUpperCase();
              return (
                <div key={other} className="grid gap-4 sm:grid-cols-2">
                  <Field
                    id={`package-${fields.price}`}
                    label={`Monthly price in ${code}`}
                    inputMode="decimal"
                    autoComplete="off"
                    {...form.register(fields.price)}
                    error={errors[fields.price]?.message}
                    hint="Empty: not sold in this currency."
                  />
                  <Field
                    id={`package-${fields.overage}`}
                    label={`Overage in ${code} (cents a minute)`}
                    inputMode="numeric"
                    autoComplete="off"
                    className="disabled:cursor-not-allowed disabled:bg-slate-100 disabled:text-slate-400"
                    {...form.register(fields.overage)}
                    disabled={hardCap}
                    error={hardCap ? undefined : errors[fields.overage]?.message}
                    hint={hardCap ? "A hard cap in every currency." : "Whole cents (pence), e.g. 2."}
                  />
                </div>
              );
            })}
          </fieldset>

          <fieldset className="flex flex-col gap-3">
            <legend className="mb-2 text-sm font-semibold text-slate-900">Free trial</legend>
            <CheckboxField
              id="package-offerTrial"
              label="Offer a free trial"
              {...form.register("offerTrial", { onChange: () => form.clearErrors("trialDays") })}
              hint="New subscribers get the included minutes and agents free for the trial; no overage is billed and calls stop at the allowance. One trial per account (and per card), ever."
            />
            <div className="sm:max-w-xs">
              <Field
                id="package-trialDays"
                label="Trial length (days)"
                inputMode="numeric"
                autoComplete="off"
                className="disabled:cursor-not-allowed disabled:bg-slate-100 disabled:text-slate-400"
                {...form.register("trialDays")}
                disabled={!offerTrial}
                error={offerTrial ? errors.trialDays?.message : undefined}
                hint="Whole days, 1 to 90."
              />
            </div>
            <CheckboxField
              id="package-trialRequiresCard"
              label="Card required to start the trial"
              {...form.register("trialRequiresCard")}
              disabled={!offerTrial}
              error={errors.trialRequiresCard?.message}
              hint="Without a card the trial starts at once; when it ends the subscription pauses until a card is added."
            />
          </fieldset>

          <fieldset className="flex flex-col gap-3">
            <legend className="mb-2 text-sm font-semibold text-slate-900">Pricing page</legend>
            <CheckboxField
              id="package-recommended"
              label="Recommended"
              {...form.register("recommended")}
              disabled={archived && !recommended}
              error={errors.recommended?.message}
              hint={
                archived && !recommended
                  ? "An archived package cannot be recommended; unarchive it first."
                  : currentRecommended
                    ? `Shows the Recommended badge. Only one package can have it: this takes it from ${currentRecommended.name}.`
                    : "Shows the Recommended badge. Only one package can have it."
              }
            />
          </fieldset>

          <div className="flex flex-wrap items-center gap-3 border-t border-slate-200 pt-4">
            <Button type="submit" disabled={isSubmitting}>
              {isSubmitting ? "Saving…" : submitLabel}
            </Button>
            <Button asChild variant="ghost">
              <Link to="/packages">Cancel</Link>
            </Button>
          </div>
        </form>
      </Card>

      {pkg ? (
        <Card>
          <PriceHistory pkg={pkg} headingId="price-history-heading" />
        </Card>
      ) : null}
    </div>
  );
}
