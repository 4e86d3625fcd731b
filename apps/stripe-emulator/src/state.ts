/**
 * Internal records. Everything the emulator knows lives in one JSON-serialisable `State`, which makes
 * transactions (snapshot + rollback), `/_emulator/reset` and the optional state file trivial.
 * Resources are rendered to Stripe's shapes by the typed builders in `resources/*`.
 */

import type { BalanceTransactionRec, CreditNoteRec, PortalSessionRec } from "./payments-state.ts";
import type { LineTaxRec, TaxIdRec, TaxRateRec } from "./tax-state.ts";

export type Metadata = Record<string, string>;
export type Interval = "day" | "week" | "month" | "year";

export interface Address {
  city: string | null;
  country: string | null;
  line1: string | null;
  line2: string | null;
  postal_code: string | null;
  state: string | null;
}

interface Base {
  id: string;
  /** Monotonic insertion number, used to order lists with equal `created`. */
  seq: number;
  created: number;
}

export interface CustomerRec extends Base {
  email: string | null;
  name: string | null;
  description: string | null;
  phone: string | null;
  address: Address | null;
  metadata: Metadata;
  balance: number;
  currency: string | null;
  default_payment_method: string | null;
  invoice_prefix: string;
  next_invoice_sequence: number;
  test_clock: string | null;
  preferred_locales: string[];
  /** `tax_exempt`; absent in older state files (`none`). */
  tax_exempt?: "exempt" | "none" | "reverse";
  deleted: boolean;
}

export interface CardRec {
  brand: string;
  display_brand: string;
  last4: string;
  exp_month: number;
  exp_year: number;
  funding: string;
  country: string;
  fingerprint: string;
}

export interface PaymentMethodRec extends Base {
  type: "card";
  customer: string | null;
  card: CardRec;
  /** The test token it was made from (`pm_card_visa`), if any. */
  alias: string | null;
  billing_details: { email: string | null; name: string | null; phone: string | null };
  metadata: Metadata;
  allow_redisplay: "always" | "limited" | "unspecified";
  /** Set up for off-session use (a Checkout or an authenticated `setup_future_usage` payment); absent in older files. */
  off_session_ready?: boolean;
}

export interface ProductRec extends Base {
  name: string;
  description: string | null;
  active: boolean;
  metadata: Metadata;
  default_price: string | null;
  images: string[];
  url: string | null;
  unit_label: string | null;
  statement_descriptor: string | null;
  tax_code: string | null;
  updated: number;
  deleted: boolean;
}

export interface RecurringRec {
  interval: Interval;
  interval_count: number;
  usage_type: "licensed" | "metered";
  meter: string | null;
  trial_period_days: number | null;
}

/** One tier of a tiered price; `up_to: null` is the last (`inf`) tier. */
export interface TierRec {
  up_to: number | null;
  unit_amount: number;
  flat_amount: number;
}

/** A price's amount in another currency (`currency_options[eur]`). */
export interface CurrencyOptionRec {
  unit_amount: number;
  tiers: TierRec[] | null;
  tax_behavior: "exclusive" | "inclusive" | "unspecified";
}

export interface PriceRec extends Base {
  product: string;
  currency: string;
  /** 0 for tiered prices (Stripe's `unit_amount: null`). */
  unit_amount: number;
  /** Absent in older state files: `per_unit`. */
  billing_scheme?: "per_unit" | "tiered";
  tiers_mode?: "graduated" | "volume" | null;
  tiers?: TierRec[] | null;
  currency_options?: Record<string, CurrencyOptionRec>;
  active: boolean;
  nickname: string | null;
  lookup_key: string | null;
  metadata: Metadata;
  recurring: RecurringRec | null;
  tax_behavior: "exclusive" | "inclusive" | "unspecified";
}

export interface SubscriptionItemRec {
  id: string;
  created: number;
  price: string;
  quantity: number;
  metadata: Metadata;
  current_period_start: number;
  current_period_end: number;
  /** The item's own `tax_rates` (they replace the subscription's `default_tax_rates`); absent = none. */
  tax_rates?: string[] | null;
}

export type SubscriptionStatus =
  | "active"
  | "canceled"
  | "incomplete"
  | "incomplete_expired"
  | "past_due"
  | "paused"
  | "trialing"
  | "unpaid";

export interface CancellationDetails {
  comment: string | null;
  feedback: string | null;
  reason: "cancellation_requested" | "payment_failed" | null;
}

export interface SubscriptionRec extends Base {
  customer: string;
  status: SubscriptionStatus;
  items: SubscriptionItemRec[];
  currency: string;
  billing_cycle_anchor: number;
  start_date: number;
  cancel_at: number | null;
  cancel_at_period_end: boolean;
  canceled_at: number | null;
  ended_at: number | null;
  cancellation_details: CancellationDetails;
  default_payment_method: string | null;
  latest_invoice: string | null;
  schedule: string | null;
  metadata: Metadata;
  description: string | null;
  collection_method: "charge_automatically" | "send_invoice";
  days_until_due: number | null;
  trial_start: number | null;
  trial_end: number | null;
  trial_missing_pm_behavior: "cancel" | "create_invoice" | "pause";
  trial_will_end_sent: boolean;
  /** The period end whose `invoice.upcoming` was sent (absent in older state files). */
  upcoming_sent_for?: number | null;
  test_clock: string | null;
  /** Failed renewal attempts of the current open invoice. */
  failed_attempts: number;
  /** Discount ids (`di_…`) in the order they apply; absent in older state files. */
  discounts?: string[];
  /** `pause_collection`; absent in older state files. */
  pause_collection?: {
    behavior: "keep_as_draft" | "mark_uncollectible" | "void";
    resumes_at: number | null;
  } | null;
  /** `default_tax_rates` (tax rate ids) and `automatic_tax[enabled]`; absent in older state files. */
  default_tax_rates?: string[];
  automatic_tax?: boolean;
}

export type InvoiceStatus = "draft" | "open" | "paid" | "uncollectible" | "void";

export interface LineRec {
  id: string;
  amount: number;
  currency: string;
  description: string | null;
  period: { start: number; end: number };
  price: string | null;
  quantity: number | null;
  proration: boolean;
  /** `invoice_item_details` lines come from invoice items; `subscription_item_details` from the subscription. */
  kind: "invoice_item" | "subscription_item";
  invoice_item: string | null;
  subscription: string | null;
  subscription_item: string | null;
  metadata: Metadata;
  /** Frozen at finalization (drafts compute theirs when rendered); absent in older state files. */
  discount_amounts?: { discount: string; amount: number }[];
  /** The line's own tax rates (from its subscription item or invoice item); null = the invoice's defaults. */
  tax_rates?: string[] | null;
  /** Taxes, frozen at finalization like `discount_amounts`. */
  taxes?: LineTaxRec[];
}

export interface InvoiceRec extends Base {
  customer: string;
  subscription: string | null;
  subscription_proration_date: number | null;
  status: InvoiceStatus;
  number: string | null;
  billing_reason:
    | "manual"
    | "subscription_create"
    | "subscription_cycle"
    | "subscription_update"
    | "subscription_threshold"
    | "upcoming";
  lines: LineRec[];
  currency: string;
  period_start: number;
  period_end: number;
  starting_balance: number;
  ending_balance: number | null;
  amount_due: number;
  amount_paid: number;
  attempt_count: number;
  attempted: boolean;
  next_payment_attempt: number | null;
  auto_advance: boolean;
  collection_method: "charge_automatically" | "send_invoice";
  due_date: number | null;
  default_payment_method: string | null;
  description: string | null;
  metadata: Metadata;
  finalized_at: number | null;
  paid_at: number | null;
  voided_at: number | null;
  marked_uncollectible_at: number | null;
  /** `invoice.will_be_due` / `invoice.overdue` were sent (absent in older state files). */
  will_be_due_sent?: boolean;
  overdue_sent?: boolean;
  /** Why it became uncollectible (`status_details.uncollectible.reason`); absent in older state files. */
  uncollectible_reason?: "max_payment_attempts" | "user_forgiven" | null;
  payment_intent: string | null;
  /** Discounts applied, frozen at finalization (drafts compute theirs); absent in older state files. */
  discounts?: string[];
  /** `default_tax_rates`, `automatic_tax[enabled]`; absent in older state files. */
  default_tax_rates?: string[];
  automatic_tax?: boolean;
  /** Frozen at finalization: `automatic_tax.status` / `disabled_reason`, `customer_tax_exempt`, tax ids. */
  automatic_tax_status?: "complete" | "requires_location_inputs" | null;
  automatic_tax_disabled_reason?: "finalization_requires_location_inputs" | null;
  customer_tax_exempt?: "exempt" | "none" | "reverse";
  customer_tax_ids?: { type: string; value: string }[];
  /** Why automatic finalization failed (an amount over Stripe's maximum), else null. */
  last_finalization_error: {
    type: "invalid_request_error";
    code: string;
    message: string;
    doc_url?: string;
  } | null;
  customer_email: string | null;
  customer_name: string | null;
  test_clock: string | null;
  deleted: boolean;
}

export interface InvoiceItemRec extends Base {
  customer: string;
  amount: number;
  currency: string;
  description: string | null;
  date: number;
  invoice: string | null;
  period: { start: number; end: number };
  price: string | null;
  quantity: number;
  proration: boolean;
  subscription: string | null;
  subscription_item: string | null;
  /** What a proration credit credits (`proration_details.credited_items`); absent in older state files. */
  credited_items?: { invoice: string; invoice_line_items: string[] } | null;
  metadata: Metadata;
  discountable: boolean;
  /** Discount ids of this item only; absent in older state files. */
  discounts?: string[];
  /** `tax_rates` (they replace the invoice's `default_tax_rates` on its line); absent = none. */
  tax_rates?: string[] | null;
  test_clock: string | null;
  deleted: boolean;
}

export interface PhaseItemRec {
  price: string;
  quantity: number;
  metadata: Metadata;
}

export interface PhaseRec {
  start_date: number;
  end_date: number;
  items: PhaseItemRec[];
  proration_behavior: "always_invoice" | "create_prorations" | "none";
  metadata: Metadata;
  default_payment_method: string | null;
  description: string | null;
  currency: string;
}

export interface ScheduleRec extends Base {
  customer: string;
  subscription: string | null;
  status: "active" | "canceled" | "completed" | "not_started" | "released";
  phases: PhaseRec[];
  end_behavior: "cancel" | "none" | "release" | "renew";
  canceled_at: number | null;
  completed_at: number | null;
  released_at: number | null;
  released_subscription: string | null;
  metadata: Metadata;
  test_clock: string | null;
  /** Phase ends up to this time have been processed. */
  processed_through: number;
}

export interface PaymentErrorRec {
  code: string;
  decline_code: string | null;
  message: string;
  type: "card_error" | "invalid_request_error";
}

export interface PaymentIntentRec extends Base {
  amount: number;
  currency: string;
  customer: string | null;
  invoice: string | null;
  payment_method: string | null;
  status:
    | "requires_payment_method"
    | "requires_confirmation"
    | "requires_action"
    | "processing"
    | "succeeded"
    | "canceled";
  last_payment_error: PaymentErrorRec | null;
  /** The last Charge made for it (absent in older state files). */
  latest_charge?: string | null;
  client_secret: string;
  description: string | null;
  metadata: Metadata;
  /** PaymentIntents made with the API (absent on invoice ones and in older state files). */
  setup_future_usage?: "off_session" | "on_session" | null;
  cancellation_reason?: string | null;
  canceled_at?: number | null;
  receipt_email?: string | null;
  /** The Checkout Session that made it (payment mode). */
  checkout_session?: string | null;
  /** Where the emulated 3-D Secure page sends the customer back to. */
  return_url?: string | null;
}

/** One payment attempt of a PaymentIntent with a card. */
export interface ChargeRec extends Base {
  amount: number;
  currency: string;
  customer: string | null;
  payment_intent: string;
  payment_method: string;
  description: string | null;
  status: "succeeded" | "failed";
  failure_code: string | null;
  failure_message: string | null;
  decline_code: string | null;
  amount_refunded: number;
  billing_email: string | null;
  billing_name: string | null;
  card: CardRec;
}

/** A refund of (part of) a succeeded PaymentIntent; card refunds succeed at once in test mode. */
export interface RefundRec extends Base {
  payment_intent: string;
  /** The charge it refunds (absent in older state files). */
  charge?: string | null;
  customer: string | null;
  payment_method: string | null;
  amount: number;
  currency: string;
  reason: "duplicate" | "fraudulent" | "requested_by_customer" | null;
  status: "succeeded";
  metadata: Metadata;
}

export interface InvoicePaymentRec extends Base {
  invoice: string;
  payment_intent: string;
  amount_requested: number;
  amount_paid: number | null;
  currency: string;
  status: "open" | "paid" | "canceled";
  paid_at: number | null;
}

export interface CheckoutLineRec {
  id: string;
  price: string;
  quantity: number;
}

export interface CheckoutSessionRec extends Base {
  mode: "subscription" | "setup" | "payment";
  status: "open" | "complete" | "expired";
  payment_status: "paid" | "unpaid" | "no_payment_required";
  customer: string | null;
  customer_email: string | null;
  client_reference_id: string | null;
  currency: string | null;
  line_items: CheckoutLineRec[];
  success_url: string | null;
  cancel_url: string | null;
  metadata: Metadata;
  subscription_data: {
    metadata: Metadata;
    description: string | null;
    trial_period_days: number | null;
    trial_end: number | null;
    /** `trial_settings.end_behavior.missing_payment_method`; absent in older state files. */
    trial_missing_pm?: "cancel" | "create_invoice" | "pause";
  };
  /** `allow_promotion_codes`; absent in older state files. */
  allow_promotion_codes?: boolean;
  /** `discounts[]` given at creation or the promotion code entered on the page. */
  discounts?: { coupon: string | null; promotion_code: string | null }[];
  setup_metadata: Metadata;
  subscription: string | null;
  invoice: string | null;
  setup_intent: string | null;
  payment_method: string | null;
  expires_at: number;
  completed_at: number | null;
  last_error: string | null;
  /** Payment mode (absent in older state files). */
  payment_intent?: string | null;
  payment_intent_data?: {
    description: string | null;
    metadata: Metadata;
    setup_future_usage: "off_session" | "on_session" | null;
    receipt_email: string | null;
  };
  customer_creation?: "always" | "if_required" | null;
  /** What the buyer entered on the hosted page (guest payments have no Customer). */
  customer_details?: { email: string | null; name: string | null } | null;
  /** `automatic_tax[enabled]`; absent in older state files. */
  automatic_tax?: boolean;
  /** The billing address entered on the hosted page for automatic tax (guests; customers get it saved). */
  tax_address?: Address | null;
  /** `customer_update[address]`: whether the address entered on the page is saved to the existing customer. */
  customer_update_address?: "auto" | "never" | null;
}

export interface SetupIntentRec extends Base {
  customer: string | null;
  payment_method: string | null;
  status: "succeeded";
  metadata: Metadata;
  description: string | null;
  client_secret: string;
}

export interface TestClockRec extends Base {
  name: string | null;
  frozen_time: number;
  status: "ready" | "advancing";
  target_frozen_time: number | null;
  deleted: boolean;
}

export interface WebhookEndpointRec extends Base {
  url: string;
  secret: string;
  enabled_events: string[];
  status: "enabled" | "disabled";
  description: string | null;
  metadata: Metadata;
  api_version: string | null;
  /** Registered through options / CLI env rather than the API; survives `/_emulator/reset`. */
  preregistered: boolean;
  deleted: boolean;
}

export interface MeterRec extends Base {
  display_name: string;
  event_name: string;
  formula: "count" | "last" | "sum";
  customer_key: string;
  value_key: string;
  event_time_window: "day" | "hour" | null;
  status: "active" | "inactive";
  deactivated_at: number | null;
  updated: number;
}

export interface MeterEventRec {
  seq: number;
  created: number;
  event_name: string;
  identifier: string;
  payload: Record<string, string>;
  timestamp: number;
}

export interface CouponRec extends Base {
  name: string | null;
  percent_off: number | null;
  amount_off: number | null;
  currency: string | null;
  duration: "forever" | "once" | "repeating";
  duration_in_months: number | null;
  max_redemptions: number | null;
  redeem_by: number | null;
  applies_to_products: string[] | null;
  times_redeemed: number;
  metadata: Metadata;
  deleted: boolean;
}

export interface PromotionCodeRec extends Base {
  code: string;
  coupon: string;
  active: boolean;
  customer: string | null;
  expires_at: number | null;
  max_redemptions: number | null;
  first_time_transaction: boolean;
  minimum_amount: number | null;
  minimum_amount_currency: string | null;
  times_redeemed: number;
  metadata: Metadata;
}

/** A coupon applied to a subscription or an invoice item (`di_…`). */
export interface DiscountRec extends Base {
  coupon: string;
  promotion_code: string | null;
  customer: string | null;
  subscription: string | null;
  invoice_item: string | null;
  checkout_session: string | null;
  start: number;
  end: number | null;
  deleted: boolean;
}

export interface State {
  seq: number;
  customers: Record<string, CustomerRec>;
  paymentMethods: Record<string, PaymentMethodRec>;
  products: Record<string, ProductRec>;
  prices: Record<string, PriceRec>;
  subscriptions: Record<string, SubscriptionRec>;
  invoices: Record<string, InvoiceRec>;
  invoiceItems: Record<string, InvoiceItemRec>;
  schedules: Record<string, ScheduleRec>;
  paymentIntents: Record<string, PaymentIntentRec>;
  invoicePayments: Record<string, InvoicePaymentRec>;
  refunds: Record<string, RefundRec>;
  charges: Record<string, ChargeRec>;
  checkoutSessions: Record<string, CheckoutSessionRec>;
  setupIntents: Record<string, SetupIntentRec>;
  testClocks: Record<string, TestClockRec>;
  webhookEndpoints: Record<string, WebhookEndpointRec>;
  meters: Record<string, MeterRec>;
  meterEvents: MeterEventRec[];
  coupons: Record<string, CouponRec>;
  promotionCodes: Record<string, PromotionCodeRec>;
  discounts: Record<string, DiscountRec>;
  balanceTransactions: Record<string, BalanceTransactionRec>;
  creditNotes: Record<string, CreditNoteRec>;
  portalSessions: Record<string, PortalSessionRec>;
  taxRates: Record<string, TaxRateRec>;
  taxIds: Record<string, TaxIdRec>;
}

export function emptyState(): State {
  return {
    seq: 0,
    customers: {},
    paymentMethods: {},
    products: {},
    prices: {},
    subscriptions: {},
    invoices: {},
    invoiceItems: {},
    schedules: {},
    paymentIntents: {},
    invoicePayments: {},
    refunds: {},
    charges: {},
    checkoutSessions: {},
    setupIntents: {},
    testClocks: {},
    webhookEndpoints: {},
    meters: {},
    meterEvents: [],
    coupons: {},
    promotionCodes: {},
    discounts: {},
    balanceTransactions: {},
    creditNotes: {},
    portalSessions: {},
    taxRates: {},
    taxIds: {},
  };
}
