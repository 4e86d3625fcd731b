import type Stripe from "stripe";
import { TAX_ID_TYPES } from "../billing/tax.ts";
import {
  arr,
  bool,
  currency,
  endpoint,
  endpointWithMetadata,
  int,
  list,
  type ObjectSpec,
  obj,
  oneOf,
  range,
  str,
} from "../spec.ts";

/**
 * Route specs of the payments side (issue 22): PaymentIntents, refunds, credit notes, customer balance
 * transactions, tax rates and tax IDs, the customer portal. Same rules as `route-specs.ts`, which spreads
 * these into `ROUTE_SPECS`.
 */

const SETUP_FUTURE_USAGE = ["off_session", "on_session"];
/** `off_session` is a boolean or `one_off` / `recurring`. */
const OFF_SESSION = oneOf(["true", "false", "one_off", "recurring"]);

const PAYMENT_INTENT_UNSUPPORTED = [
  "allowed_payment_method_types",
  "amount_details",
  "application_fee_amount",
  "excluded_payment_method_types",
  "hooks",
  "payment_details",
  "payment_method_configuration",
  "payment_method_data",
  "payment_method_options",
  "shipping",
  "statement_descriptor",
  "statement_descriptor_suffix",
  "transfer_data",
  "transfer_group",
] as const;

const paymentIntentCreate = endpointWithMetadata<Stripe.PaymentIntentCreateParams>(
  {
    amount: int({ min: 0 }),
    automatic_payment_methods: obj<Stripe.PaymentIntentCreateParams.AutomaticPaymentMethods>({
      allow_redirects: oneOf(["always", "never"]),
      enabled: bool(),
    }),
    capture_method: oneOf(["automatic", "automatic_async", "manual"]),
    confirm: bool(),
    currency: currency(),
    customer: str(),
    description: str(),
    error_on_requires_action: bool(),
    off_session: OFF_SESSION,
    payment_method: str(),
    receipt_email: str(),
    return_url: str(),
    setup_future_usage: oneOf(SETUP_FUTURE_USAGE),
  },
  {
    unsupported: [
      ...PAYMENT_INTENT_UNSUPPORTED,
      "confirmation_method",
      "confirmation_token",
      "customer_account",
      "mandate",
      "mandate_data",
      "on_behalf_of",
      "radar_options",
      "use_stripe_sdk",
    ],
  },
);

const paymentIntentUpdate = endpointWithMetadata<Stripe.PaymentIntentUpdateParams>(
  {
    amount: int({ min: 0 }),
    currency: currency(),
    customer: str(),
    description: str(),
    payment_method: str(),
    receipt_email: str(),
    setup_future_usage: oneOf(SETUP_FUTURE_USAGE, { emptyable: true }),
  },
  { unsupported: [...PAYMENT_INTENT_UNSUPPORTED, "capture_method", "customer_account"] },
);

const paymentIntentConfirm = endpoint<Stripe.PaymentIntentConfirmParams>(
  {
    error_on_requires_action: bool(),
    off_session: OFF_SESSION,
    payment_method: str(),
    receipt_email: str(),
    return_url: str(),
    setup_future_usage: oneOf(SETUP_FUTURE_USAGE, { emptyable: true }),
  },
  {
    unsupported: [
      "allowed_payment_method_types",
      "amount_details",
      "amount_to_confirm",
      "capture_method",
      "confirmation_token",
      "excluded_payment_method_types",
      "hooks",
      "mandate",
      "mandate_data",
      "payment_details",
      "payment_method_data",
      "payment_method_options",
      "radar_options",
      "shipping",
      "use_stripe_sdk",
    ],
  },
);

const CREDIT_NOTE_REASONS = ["duplicate", "fraudulent", "order_change", "product_unsatisfactory"];

const creditNoteFields = {
  amount: int({ min: 0 }),
  credit_amount: int({ min: 0 }),
  invoice: str(),
  lines: arr(
    obj<Stripe.CreditNoteCreateParams.Line>(
      {
        amount: int({ min: 0 }),
        description: str(),
        invoice_line_item: str(),
        quantity: int({ min: 1 }),
        type: oneOf(["custom_line_item", "invoice_line_item"]),
        unit_amount: int({ min: 0 }),
      },
      { unsupported: ["metadata", "tax_amounts", "tax_rates", "unit_amount_decimal"] },
    ),
  ),
  memo: str(),
  out_of_band_amount: int({ min: 0 }),
  reason: oneOf(CREDIT_NOTE_REASONS),
  refund_amount: int({ min: 0 }),
};
const CREDIT_NOTE_UNSUPPORTED = ["effective_at", "email_type", "refunds", "shipping_cost"] as const;

const TAX_RATE_TYPES = (
  "admissions_tax amusement_tax attendance_tax communications_tax digital_excise_tax entertainment_tax " +
  "get_fund gross_receipts_tax gst hospitality_tax hst igst jct lease_tax luxury_tax " +
  "mass_transit_parking_tax nhil parking_tax pst qst resort_tax retail_delivery_fee rst sales_tax " +
  "service_tax tourism_tax utility_users_tax vat"
).split(" ");

const taxRateFields = {
  active: bool(),
  country: str(),
  description: str(),
  display_name: str({ emptyable: false, maxLength: 50 }),
  jurisdiction: str({ maxLength: 50 }),
  state: str(),
  tax_type: oneOf(TAX_RATE_TYPES),
};

export const PAYMENT_ROUTE_SPECS: Record<string, ObjectSpec> = {
  // Tax rates
  "POST /v1/tax_rates": endpointWithMetadata<Stripe.TaxRateCreateParams>({
    ...taxRateFields,
    inclusive: bool(),
    // A decimal (`7.25`): checked by the handler.
    percentage: str({ emptyable: false }),
  }),
  "GET /v1/tax_rates": list<Stripe.TaxRateListParams>({
    active: bool(),
    created: range(),
    inclusive: bool(),
  }),
  "GET /v1/tax_rates/:id": endpoint({}),
  "POST /v1/tax_rates/:id": endpointWithMetadata<Stripe.TaxRateUpdateParams>(taxRateFields),

  // Customer tax IDs
  "POST /v1/customers/:id/tax_ids": endpoint<Stripe.CustomerCreateTaxIdParams>({
    type: oneOf(TAX_ID_TYPES),
    value: str({ emptyable: false }),
  }),
  "GET /v1/customers/:id/tax_ids": list<Stripe.CustomerListTaxIdsParams>({}),
  "GET /v1/customers/:id/tax_ids/:tax_id": endpoint({}),
  "DELETE /v1/customers/:id/tax_ids/:tax_id": obj({}),

  // Charges (read-only) and refunds
  "GET /v1/charges": list<Stripe.ChargeListParams>(
    { created: range(), customer: str(), payment_intent: str() },
    { unsupported: ["transfer_group"] },
  ),
  "GET /v1/charges/:id": endpoint({}),
  "POST /v1/refunds": endpointWithMetadata<Stripe.RefundCreateParams>(
    {
      amount: int({ min: 1 }),
      charge: str(),
      payment_intent: str(),
      reason: oneOf(["duplicate", "fraudulent", "requested_by_customer"]),
    },
    {
      unsupported: [
        "currency",
        "customer",
        "instructions_email",
        "origin",
        "refund_application_fee",
        "reverse_transfer",
      ],
    },
  ),
  "GET /v1/refunds": list<Stripe.RefundListParams>({
    charge: str(),
    created: range(),
    payment_intent: str(),
  }),
  "GET /v1/refunds/:id": endpoint({}),

  // Credit notes
  "POST /v1/credit_notes": endpointWithMetadata<Stripe.CreditNoteCreateParams>(creditNoteFields, {
    unsupported: [...CREDIT_NOTE_UNSUPPORTED],
  }),
  "GET /v1/credit_notes/preview": endpointWithMetadata<Stripe.CreditNotePreviewParams>(creditNoteFields, {
    unsupported: [...CREDIT_NOTE_UNSUPPORTED],
  }),
  "GET /v1/credit_notes": list<Stripe.CreditNoteListParams>(
    { created: range(), customer: str(), invoice: str() },
    { unsupported: ["customer_account"] },
  ),
  "GET /v1/credit_notes/:id": endpoint({}),
  "POST /v1/credit_notes/:id": endpointWithMetadata<Stripe.CreditNoteUpdateParams>({ memo: str() }),
  "POST /v1/credit_notes/:id/void": endpoint<Stripe.CreditNoteVoidCreditNoteParams>({}),
  "GET /v1/credit_notes/:id/lines": list<Stripe.CreditNoteListLineItemsParams>({}),

  // Customer portal
  "POST /v1/billing_portal/sessions": endpoint<Stripe.BillingPortal.SessionCreateParams>(
    { customer: str(), return_url: str() },
    { unsupported: ["configuration", "customer_account", "flow_data", "locale", "on_behalf_of"] },
  ),

  // Customer balance transactions
  "POST /v1/customers/:id/balance_transactions":
    endpointWithMetadata<Stripe.CustomerCreateBalanceTransactionParams>({
      amount: int(),
      currency: currency(),
      description: str({ maxLength: 350 }),
    }),
  "GET /v1/customers/:id/balance_transactions": list<Stripe.CustomerListBalanceTransactionsParams>(
    { created: range() },
    { unsupported: ["invoice"] },
  ),
  "GET /v1/customers/:id/balance_transactions/:txn": endpoint({}),
  "POST /v1/customers/:id/balance_transactions/:txn":
    endpointWithMetadata<Stripe.CustomerUpdateBalanceTransactionParams>({
      description: str({ maxLength: 350 }),
    }),

  // Payment intents
  "POST /v1/payment_intents": paymentIntentCreate,
  "GET /v1/payment_intents": list<Stripe.PaymentIntentListParams>({ created: range(), customer: str() }),
  "GET /v1/payment_intents/:id": endpoint<Stripe.PaymentIntentRetrieveParams>({ client_secret: str() }),
  "POST /v1/payment_intents/:id": paymentIntentUpdate,
  "POST /v1/payment_intents/:id/confirm": paymentIntentConfirm,
  "POST /v1/payment_intents/:id/cancel": endpoint<Stripe.PaymentIntentCancelParams>({
    cancellation_reason: oneOf(["abandoned", "duplicate", "fraudulent", "requested_by_customer"]),
  }),
};
