// The billing address and tax ID printed on invoices (held by Stripe, which computes tax from them). Bad
// input comes back as a 400 naming the field, shown under it.
import { TAX_ID_LABELS, TAX_ID_TYPES, type TaxIdType } from "@minutely/domain";
import {
  Badge,
  Banner,
  Button,
  Card,
  ErrorState,
  Field,
  fieldErrorsOf,
  Spinner,
  useIntentMutation,
} from "@minutely/ui";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { trpc } from "../lib/trpc.ts";

interface Form {
  country: string;
  line1: string;
  city: string;
  state: string;
  postalCode: string;
  taxIdType: TaxIdType | "";
  taxIdValue: string;
}

const EMPTY: Form = {
  country: "",
  line1: "",
  city: "",
  state: "",
  postalCode: "",
  taxIdType: "",
  taxIdValue: "",
};
const orNull = (value: string) => (value.trim() === "" ? null : value.trim());

export function BillingAddressCard() {
  const queryClient = useQueryClient();
  const details = useQuery(trpc.subscription.taxDetails.queryOptions());
  const [form, setForm] = useState<Form>(EMPTY);
  useEffect(() => {
    const d = details.data;
    if (!d) return;
    setForm({
      country: d.address?.country ?? "",
      line1: d.address?.line1 ?? "",
      city: d.address?.city ?? "",
      state: d.address?.state ?? "",
      postalCode: d.address?.postalCode ?? "",
      taxIdType: d.taxId?.type ?? "",
      taxIdValue: d.taxId?.value ?? "",
    });
  }, [details.data]);
  const save = useIntentMutation(
    trpc.subscription.updateTaxDetails.mutationOptions({
      onSuccess: (saved) => queryClient.setQueryData(trpc.subscription.taxDetails.queryKey(), saved),
    }),
  );
  const fields = fieldErrorsOf(save.error);
  const set = (key: keyof Form) => (e: { target: { value: string } }) =>
    setForm({ ...form, [key]: e.target.value });
  const d = details.data;
  return (
    <Card data-testid="billing-address">
      <h2 className="text-lg font-semibold">Billing address and tax ID</h2>
      <p className="mt-1 text-sm text-slate-600">
        Printed on your invoices. Prices are shown excluding tax: tax is added by your address (for example 20
        % VAT in France, 19 % in Germany); an EU business with a verified VAT number outside Ireland is
        reverse charged (no VAT).
      </p>
      {details.isPending ? <Spinner label="Loading billing address" /> : null}
      {details.isError ? <ErrorState error={details.error} onRetry={() => details.refetch()} /> : null}
      {d ? (
        <form
          noValidate
          className="mt-4 grid max-w-2xl gap-4 sm:grid-cols-2"
          aria-label="Billing address and tax ID"
          onSubmit={(event) => {
            event.preventDefault();
            save.mutate({
              address: {
                country: form.country.trim().toUpperCase(),
                line1: orNull(form.line1),
                line2: null,
                city: orNull(form.city),
                state: orNull(form.state),
                postalCode: orNull(form.postalCode),
              },
              taxId: form.taxIdType === "" ? null : { type: form.taxIdType, value: form.taxIdValue },
            });
          }}
        >
          {save.isSuccess ? (
            <div className="sm:col-span-2">
              <Banner tone="success">
                Saved.{" "}
                {save.data.reverseCharge
                  ? "Your invoices are reverse charged (no VAT)."
                  : "Tax on your invoices follows this address."}
              </Banner>
            </div>
          ) : null}
          {save.isError && Object.keys(fields).length === 0 ? (
            <div className="sm:col-span-2">
              <Banner tone="danger">{save.error.message}</Banner>
            </div>
          ) : null}
          <Field
            id="address-country"
            label="Country (two letters)"
            hint="e.g. DE, FR, GB, US"
            value={form.country}
            maxLength={2}
            onChange={set("country")}
            error={fields["address.country"]}
          />
          <Field
            id="address-state"
            label="State or province"
            hint="Required in the US and Canada (e.g. CA, ON)"
            value={form.state}
            onChange={set("state")}
            error={fields["address.state"]}
          />
          <Field
            id="address-line1"
            label="Street address"
            value={form.line1}
            onChange={set("line1")}
            error={fields["address.line1"]}
          />
          <Field
            id="address-city"
            label="City"
            value={form.city}
            onChange={set("city")}
            error={fields["address.city"]}
          />
          <Field
            id="address-postal-code"
            label="Postal code"
            hint="Required in the US and Canada"
            value={form.postalCode}
            onChange={set("postalCode")}
            error={fields["address.postalCode"]}
          />
          <label className="flex flex-col text-sm font-medium text-slate-700">
            Tax ID (optional)
            <select
              id="tax-id-type"
              className="mt-1 rounded-md border border-slate-300 px-2 py-2"
              value={form.taxIdType}
              onChange={set("taxIdType")}
              aria-invalid={fields["taxId.type"] ? true : undefined}
            >
              <option value="">None</option>
              {TAX_ID_TYPES.map((type) => (
                <option key={type} value={type}>
                  {TAX_ID_LABELS[type]}
                </option>
              ))}
            </select>
          </label>
          {form.taxIdType !== "" ? (
            <Field
              id="tax-id-value"
              label={`${TAX_ID_LABELS[form.taxIdType]}`}
              value={form.taxIdValue}
              onChange={set("taxIdValue")}
              error={fields["taxId.value"]}
            />
          ) : null}
          {d.taxId ? (
            <p className="text-sm text-slate-600 sm:col-span-2" data-testid="tax-id-status">
              {TAX_ID_LABELS[d.taxId.type]} {d.taxId.value}:{" "}
              <Badge tone={d.taxId.verification === "verified" ? "success" : "warning"}>
                {d.taxId.verification}
              </Badge>
              {d.reverseCharge ? <Badge tone="neutral">reverse charge</Badge> : null}
            </p>
          ) : null}
          <div className="sm:col-span-2">
            <Button type="submit" disabled={save.isPending}>
              {save.isPending ? "Saving…" : "Save billing address"}
            </Button>
          </div>
        </form>
      ) : null}
    </Card>
  );
}
