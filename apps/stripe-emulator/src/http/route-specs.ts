import type Stripe from "stripe";
import { TAX_ID_TYPES } from "../billing/tax.ts";
import {
  arr,
  bool,
  currency,
  currencyMap,
  endpoint,
  endpointWithMetadata,
  int,
  list,
  metadata,
  type ObjectSpec,
  obj,
  oneOf,
  range,
  str,
  ts,
} from "../spec.ts";
import { PAYMENT_ROUTE_SPECS } from "./route-specs-payments.ts";

/**
 * The parameters every endpoint accepts, keyed `"METHOD /path/:param"` exactly as the resource files
 * register them (the router refuses a route without a spec). Each spec is typed with the SDK's params type
 * for that call, so a name Stripe does not know does not compile; fields Stripe has but the emulator does
 * not implement are either absent (refused as unknown, as Stripe refuses a typo) or listed as `unsupported`
 * (refused with a message saying so). Every parameter a handler reads must be declared here: the tests
 * fail on a read of an undeclared one (see `Params`).
 *
 * The parts many endpoints share come from builders in `spec.ts`: `endpoint` adds `expand[]`,
 * `endpointWithMetadata` also `metadata`, `list` the pagination parameters; each compiles only when the
 * SDK's params type declares what it adds.
 */

const INTERVALS = ["day", "week", "month", "year"];
const PRORATION_BEHAVIORS = ["always_invoice", "create_prorations", "none"];
const PAYMENT_BEHAVIORS = [
  "allow_incomplete",
  "default_incomplete",
  "error_if_incomplete",
  "pending_if_incomplete",
];
const COLLECTION_METHODS = ["charge_automatically", "send_invoice"];
const TAX_BEHAVIORS = ["exclusive", "inclusive", "unspecified"];
const TAX_EXEMPT = ["exempt", "none", "reverse"];
/** `tax_rates` / `default_tax_rates`: tax rate ids; `''` removes them. */
const taxRates = () => arr(str(), { emptyable: true });
/** `automatic_tax`: only `enabled` (the liability is always the account's own). */
const automaticTax = () =>
  obj<Stripe.SubscriptionCreateParams.AutomaticTax>({ enabled: bool() }, { unsupported: ["liability"] });

/** Only `expand[]` (retrieve endpoints). */
const retrieve = (): ObjectSpec => endpoint({});
/** No parameters at all (deletes). */
const none = (): ObjectSpec => obj({});

const search = endpoint<Stripe.CustomerSearchParams>({
  query: str(),
  limit: int({ min: 1, max: 100 }),
  page: str(),
});

const address = obj<Stripe.AddressParam>(
  { city: str(), country: str(), line1: str(), line2: str(), postal_code: str(), state: str() },
  { emptyable: true },
);

const customerCreate = endpointWithMetadata<Stripe.CustomerCreateParams>(
  {
    address,
    balance: int(),
    description: str(),
    email: str({ maxLength: 512 }),
    invoice_prefix: str(),
    invoice_settings: obj<Stripe.CustomerCreateParams.InvoiceSettings>(
      { default_payment_method: str() },
      { unsupported: ["custom_fields", "footer", "rendering_options"] },
    ),
    name: str({ maxLength: 256 }),
    next_invoice_sequence: int({ min: 1 }),
    payment_method: str(),
    phone: str({ maxLength: 20 }),
    preferred_locales: arr(str()),
    tax_exempt: oneOf(TAX_EXEMPT, { emptyable: true }),
    tax_id_data: arr(
      obj<Stripe.CustomerCreateParams.TaxIdDatum>({
        type: oneOf(TAX_ID_TYPES),
        value: str({ emptyable: false }),
      }),
    ),
    test_clock: str(),
  },
  { unsupported: ["cash_balance", "shipping", "source", "tax"] },
);

const customerUpdate = endpointWithMetadata<Stripe.CustomerUpdateParams>(
  {
    address,
    balance: int(),
    description: str(),
    email: str({ maxLength: 512 }),
    invoice_settings: obj<Stripe.CustomerUpdateParams.InvoiceSettings>(
      { default_payment_method: str() },
      { unsupported: ["custom_fields", "footer", "rendering_options"] },
    ),
    name: str({ maxLength: 256 }),
    phone: str({ maxLength: 20 }),
    preferred_locales: arr(str()),
    tax_exempt: oneOf(TAX_EXEMPT, { emptyable: true }),
  },
  { unsupported: ["cash_balance", "default_source", "shipping", "source", "tax"] },
);

const productCreate = endpointWithMetadata<Stripe.ProductCreateParams>(
  {
    active: bool(),
    default_price_data: obj<Stripe.ProductCreateParams.DefaultPriceData>({
      currency: currency(),
      unit_amount: int({ min: 0 }),
      unit_amount_decimal: str(),
      recurring: obj({ interval: oneOf(INTERVALS), interval_count: int({ min: 1 }) }),
      tax_behavior: oneOf(TAX_BEHAVIORS),
    }),
    description: str(),
    id: str(),
    images: arr(str()),
    name: str(),
    statement_descriptor: str({ maxLength: 22 }),
    tax_code: str(),
    unit_label: str(),
    url: str(),
  },
  { unsupported: ["marketing_features", "package_dimensions", "shippable", "tax_details"] },
);

const productUpdate = endpointWithMetadata<Stripe.ProductUpdateParams>(
  {
    active: bool(),
    default_price: str(),
    description: str(),
    images: arr(str(), { emptyable: true }),
    name: str(),
    statement_descriptor: str({ maxLength: 22 }),
    tax_code: str(),
    unit_label: str(),
    url: str(),
  },
  { unsupported: ["marketing_features", "package_dimensions", "shippable", "tax_details"] },
);

const priceRecurring = obj<Stripe.PriceCreateParams.Recurring>({
  interval: oneOf(INTERVALS),
  interval_count: int({ min: 1 }),
  meter: str(),
  trial_period_days: int({ min: 0, max: 730 }),
  usage_type: oneOf(["licensed", "metered"]),
});

const priceTier = obj<Stripe.PriceCreateParams.Tier>({
  flat_amount: int({ min: 0 }),
  flat_amount_decimal: str(),
  unit_amount: int({ min: 0 }),
  unit_amount_decimal: str(),
  // `inf` or an integer: checked by the handler.
  up_to: str({ emptyable: false }),
});

const priceCreate = endpointWithMetadata<Stripe.PriceCreateParams>(
  {
    active: bool(),
    billing_scheme: oneOf(["per_unit", "tiered"]),
    currency: currency(),
    currency_options: currencyMap(
      obj<Stripe.PriceCreateParams.CurrencyOptions>(
        {
          tax_behavior: oneOf(TAX_BEHAVIORS),
          tiers: arr(priceTier),
          unit_amount: int({ min: 0 }),
          unit_amount_decimal: str(),
        },
        { unsupported: ["custom_unit_amount"] },
      ),
    ),
    lookup_key: str({ maxLength: 200 }),
    nickname: str(),
    product: str(),
    product_data: obj<Stripe.PriceCreateParams.ProductData>(
      {
        active: bool(),
        id: str(),
        metadata: metadata(),
        name: str(),
        statement_descriptor: str({ maxLength: 22 }),
        tax_code: str(),
        unit_label: str(),
      },
      { unsupported: ["tax_details"] },
    ),
    recurring: priceRecurring,
    tax_behavior: oneOf(TAX_BEHAVIORS),
    tiers: arr(priceTier),
    tiers_mode: oneOf(["graduated", "volume"]),
    transfer_lookup_key: bool(),
    unit_amount: int({ min: 0 }),
    unit_amount_decimal: str(),
  },
  { unsupported: ["custom_unit_amount", "transform_quantity"] },
);

const priceUpdate = endpointWithMetadata<Stripe.PriceUpdateParams>(
  {
    active: bool(),
    lookup_key: str({ maxLength: 200 }),
    nickname: str(),
    tax_behavior: oneOf(TAX_BEHAVIORS),
    transfer_lookup_key: bool(),
  },
  { unsupported: ["currency_options"] },
);

/** `price_data` of subscription items, invoice items and previews. */
const itemPriceData = obj<Stripe.SubscriptionCreateParams.Item.PriceData>({
  currency: currency(),
  product: str(),
  recurring: obj<Stripe.SubscriptionCreateParams.Item.PriceData.Recurring>({
    interval: oneOf(INTERVALS),
    interval_count: int({ min: 1 }),
  }),
  tax_behavior: oneOf(TAX_BEHAVIORS),
  unit_amount: int({ min: 0 }),
  unit_amount_decimal: str(),
});

const subscriptionCreateItem = obj<Stripe.SubscriptionCreateParams.Item>(
  {
    metadata: metadata(),
    plan: str(),
    price: str(),
    price_data: itemPriceData,
    quantity: int({ min: 0 }),
    tax_rates: taxRates(),
  },
  { unsupported: ["billing_thresholds", "discounts"] },
);

const subscriptionUpdateItem = obj<Stripe.SubscriptionUpdateParams.Item>(
  {
    deleted: bool(),
    id: str(),
    metadata: metadata(),
    plan: str(),
    price: str(),
    price_data: itemPriceData,
    quantity: int({ min: 0 }),
    tax_rates: taxRates(),
  },
  { unsupported: ["billing_thresholds", "clear_usage", "discounts"] },
);

/** `discounts[]` entries of subscriptions, invoice items and previews. */
const discountsParam = () =>
  arr(
    obj<Stripe.SubscriptionCreateParams.Discount>({ coupon: str(), discount: str(), promotion_code: str() }),
    { emptyable: true },
  );

const SUBSCRIPTION_UNSUPPORTED = [
  "add_invoice_items",
  "application_fee_percent",
  "billing_thresholds",
  "default_source",
  "invoice_settings",
  "off_session",
  "on_behalf_of",
  "payment_settings",
  "pending_invoice_item_interval",
  "transfer_data",
] as const;

const subscriptionCreate = endpointWithMetadata<Stripe.SubscriptionCreateParams>(
  {
    automatic_tax: automaticTax(),
    billing_cycle_anchor: ts(),
    cancel_at: ts(),
    cancel_at_period_end: bool(),
    collection_method: oneOf(COLLECTION_METHODS),
    currency: currency(),
    customer: str(),
    days_until_due: int({ min: 0 }),
    default_payment_method: str(),
    default_tax_rates: taxRates(),
    description: str({ maxLength: 500 }),
    discounts: discountsParam(),
    items: arr(subscriptionCreateItem),
    payment_behavior: oneOf(PAYMENT_BEHAVIORS),
    proration_behavior: oneOf(PRORATION_BEHAVIORS),
    trial_end: ts({ now: true }),
    trial_from_plan: bool(),
    trial_period_days: int({ min: 0, max: 730 }),
    trial_settings: obj<Stripe.SubscriptionCreateParams.TrialSettings>({
      end_behavior: obj<Stripe.SubscriptionCreateParams.TrialSettings.EndBehavior>({
        missing_payment_method: oneOf(["cancel", "create_invoice", "pause"]),
      }),
    }),
  },
  {
    unsupported: [
      ...SUBSCRIPTION_UNSUPPORTED,
      "backdate_start_date",
      "billing_cycle_anchor_config",
      "billing_mode",
    ],
  },
);

const cancellationDetails = obj<Stripe.SubscriptionUpdateParams.CancellationDetails>({
  comment: str(),
  feedback: oneOf(
    [
      "customer_service",
      "low_quality",
      "missing_features",
      "other",
      "switched_service",
      "too_complex",
      "too_expensive",
      "unused",
    ],
    { emptyable: true },
  ),
});

const subscriptionUpdate = endpointWithMetadata<Stripe.SubscriptionUpdateParams>(
  {
    automatic_tax: automaticTax(),
    billing_cycle_anchor: oneOf(["now", "unchanged"]),
    cancel_at: ts({ emptyable: true }),
    cancel_at_period_end: bool(),
    cancellation_details: cancellationDetails,
    collection_method: oneOf(COLLECTION_METHODS),
    days_until_due: int({ min: 0 }),
    default_payment_method: str(),
    default_tax_rates: taxRates(),
    description: str({ maxLength: 500 }),
    discounts: discountsParam(),
    items: arr(subscriptionUpdateItem),
    payment_behavior: oneOf(PAYMENT_BEHAVIORS),
    proration_behavior: oneOf(PRORATION_BEHAVIORS),
    pause_collection: obj<Stripe.SubscriptionUpdateParams.PauseCollection>(
      { behavior: oneOf(["keep_as_draft", "mark_uncollectible", "void"]), resumes_at: ts() },
      { emptyable: true },
    ),
    proration_date: ts(),
    trial_end: ts({ now: true }),
    trial_settings: obj<Stripe.SubscriptionUpdateParams.TrialSettings>({
      end_behavior: obj<Stripe.SubscriptionUpdateParams.TrialSettings.EndBehavior>({
        missing_payment_method: oneOf(["cancel", "create_invoice", "pause"]),
      }),
    }),
  },
  { unsupported: [...SUBSCRIPTION_UNSUPPORTED, "billing_schedules", "trial_from_plan"] },
);

const scheduleItem = obj<Stripe.SubscriptionScheduleUpdateParams.Phase.Item>(
  { metadata: metadata(), plan: str(), price: str(), quantity: int({ min: 0 }) },
  { unsupported: ["billing_thresholds", "discounts", "price_data", "tax_rates"] },
);

const schedulePhase = obj<Stripe.SubscriptionScheduleUpdateParams.Phase>(
  {
    default_payment_method: str(),
    description: str(),
    duration: obj<Stripe.SubscriptionScheduleUpdateParams.Phase.Duration>({
      interval: oneOf(INTERVALS),
      interval_count: int({ min: 1 }),
    }),
    end_date: ts({ now: true }),
    items: arr(scheduleItem),
    metadata: metadata(),
    proration_behavior: oneOf(PRORATION_BEHAVIORS),
    start_date: ts({ now: true }),
  },
  {
    unsupported: [
      "add_invoice_items",
      "application_fee_percent",
      "automatic_tax",
      "billing_cycle_anchor",
      "billing_thresholds",
      "collection_method",
      "currency",
      "default_tax_rates",
      "discounts",
      "invoice_settings",
      "on_behalf_of",
      "transfer_data",
      "trial",
      "trial_end",
    ],
  },
);

const END_BEHAVIORS = ["cancel", "none", "release", "renew"];

const scheduleCreate = endpointWithMetadata<Stripe.SubscriptionScheduleCreateParams>(
  {
    customer: str(),
    end_behavior: oneOf(END_BEHAVIORS),
    from_subscription: str(),
    phases: arr(schedulePhase),
    start_date: ts({ now: true }),
  },
  { unsupported: ["billing_mode", "default_settings"] },
);

const scheduleUpdate = endpointWithMetadata<Stripe.SubscriptionScheduleUpdateParams>(
  {
    end_behavior: oneOf(END_BEHAVIORS),
    phases: arr(schedulePhase),
    proration_behavior: oneOf(PRORATION_BEHAVIORS),
  },
  { unsupported: ["default_settings"] },
);

const previewItem = obj<Stripe.InvoiceCreatePreviewParams.SubscriptionDetails.Item>(
  {
    deleted: bool(),
    id: str(),
    metadata: metadata(),
    plan: str(),
    price: str(),
    price_data: itemPriceData,
    quantity: int({ min: 0 }),
    tax_rates: taxRates(),
  },
  { unsupported: ["billing_thresholds", "clear_usage", "discounts"] },
);

const invoiceCreatePreview = endpoint<Stripe.InvoiceCreatePreviewParams>(
  {
    automatic_tax: automaticTax(),
    currency: currency(),
    customer: str(),
    invoice_items: arr(
      obj<Stripe.InvoiceCreatePreviewParams.InvoiceItem>(
        { metadata: metadata(), price: str(), quantity: int({ min: 1 }) },
        {
          unsupported: [
            "amount",
            "currency",
            "description",
            "discountable",
            "discounts",
            "invoiceitem",
            "period",
            "price_data",
            "tax_behavior",
            "tax_code",
            "tax_rates",
            "unit_amount",
            "unit_amount_decimal",
          ],
        },
      ),
    ),
    subscription: str(),
    subscription_details: obj<Stripe.InvoiceCreatePreviewParams.SubscriptionDetails>(
      {
        billing_cycle_anchor: oneOf(["now", "unchanged"]),
        cancel_at: ts({ emptyable: true }),
        cancel_at_period_end: bool(),
        cancel_now: bool(),
        default_tax_rates: taxRates(),
        items: arr(previewItem),
        proration_behavior: oneOf(PRORATION_BEHAVIORS),
        proration_date: ts(),
        trial_end: ts({ now: true }),
      },
      { unsupported: ["billing_mode", "resume_at", "start_date"] },
    ),
  },
  {
    unsupported: [
      "customer_details",
      "discounts",
      "issuer",
      "on_behalf_of",
      "preview_mode",
      "schedule",
      "schedule_details",
    ],
  },
);

const INVOICE_STATUSES = ["draft", "open", "paid", "uncollectible", "void"];

const invoiceCreate = endpointWithMetadata<Stripe.InvoiceCreateParams>(
  {
    auto_advance: bool(),
    automatic_tax: automaticTax(),
    collection_method: oneOf(COLLECTION_METHODS),
    currency: currency(),
    customer: str(),
    days_until_due: int({ min: 0 }),
    default_payment_method: str(),
    default_tax_rates: arr(str()),
    description: str(),
    pending_invoice_items_behavior: oneOf(["exclude", "include"]),
    subscription: str(),
  },
  {
    unsupported: [
      "account_tax_ids",
      "custom_fields",
      "discounts",
      "due_date",
      "footer",
      "on_behalf_of",
      "payment_settings",
      "rendering",
      "shipping_cost",
      "shipping_details",
      "statement_descriptor",
      "transfer_data",
    ],
  },
);

const invoiceUpdate = endpointWithMetadata<Stripe.InvoiceUpdateParams>(
  {
    auto_advance: bool(),
    automatic_tax: automaticTax(),
    collection_method: oneOf(COLLECTION_METHODS),
    days_until_due: int({ min: 0 }),
    default_payment_method: str(),
    default_tax_rates: taxRates(),
    description: str(),
  },
  {
    unsupported: [
      "account_tax_ids",
      "custom_fields",
      "discounts",
      "due_date",
      "footer",
      "on_behalf_of",
      "payment_settings",
      "rendering",
      "statement_descriptor",
    ],
  },
);

const invoiceItemCreate = endpointWithMetadata<Stripe.InvoiceItemCreateParams>(
  {
    amount: int(),
    currency: currency(),
    customer: str(),
    description: str(),
    discountable: bool(),
    discounts: discountsParam(),
    invoice: str(),
    period: obj<Stripe.InvoiceItemCreateParams.Period>({ end: ts(), start: ts() }),
    price_data: obj<Stripe.InvoiceItemCreateParams.PriceData>({
      currency: currency(),
      product: str(),
      tax_behavior: oneOf(TAX_BEHAVIORS),
      unit_amount: int({ min: 0 }),
      unit_amount_decimal: str(),
    }),
    pricing: obj<Stripe.InvoiceItemCreateParams.Pricing>({ price: str() }),
    quantity: int({ min: 0 }),
    subscription: str(),
    tax_rates: arr(str()),
    unit_amount_decimal: str(),
  },
  { unsupported: ["tax_behavior", "tax_code"] },
);

const invoiceItemUpdate = endpointWithMetadata<Stripe.InvoiceItemUpdateParams>(
  { amount: int(), description: str(), quantity: int({ min: 0 }), tax_rates: taxRates() },
  {
    unsupported: ["discountable", "discounts", "period", "price_data", "pricing", "tax_behavior", "tax_code"],
  },
);

const paymentMethodCreate = endpointWithMetadata<Stripe.PaymentMethodCreateParams>(
  {
    billing_details: obj<Stripe.PaymentMethodCreateParams.BillingDetails>(
      { email: str(), name: str(), phone: str() },
      { unsupported: ["address", "tax_id"] },
    ),
    card: obj({
      cvc: str(),
      exp_month: int({ min: 1, max: 12 }),
      exp_year: int(),
      number: str(),
      token: str(),
    }),
    type: str(),
  },
  { unsupported: ["allow_redisplay", "customer", "payment_method"] },
);

const paymentMethodUpdate = endpointWithMetadata<Stripe.PaymentMethodUpdateParams>({
  allow_redisplay: oneOf(["always", "limited", "unspecified"]),
  billing_details: obj<Stripe.PaymentMethodUpdateParams.BillingDetails>(
    { email: str(), name: str(), phone: str() },
    { unsupported: ["address", "tax_id"] },
  ),
  card: obj<Stripe.PaymentMethodUpdateParams.Card>({ exp_month: int({ min: 1, max: 12 }), exp_year: int() }),
});

const checkoutCreate = endpointWithMetadata<Stripe.Checkout.SessionCreateParams>(
  {
    allow_promotion_codes: bool(),
    automatic_tax: obj<Stripe.Checkout.SessionCreateParams.AutomaticTax>(
      { enabled: bool() },
      { unsupported: ["liability"] },
    ),
    cancel_url: str(),
    client_reference_id: str({ maxLength: 200 }),
    currency: currency(),
    customer: str(),
    customer_email: str(),
    customer_update: obj<Stripe.Checkout.SessionCreateParams.CustomerUpdate>({
      address: oneOf(["auto", "never"]),
      name: oneOf(["auto", "never"]),
      shipping: oneOf(["auto", "never"]),
    }),
    discounts: arr(
      obj<Stripe.Checkout.SessionCreateParams.Discount>({ coupon: str(), promotion_code: str() }),
    ),
    expires_at: ts(),
    line_items: arr(
      obj<Stripe.Checkout.SessionCreateParams.LineItem>(
        { price: str(), price_data: obj({}), quantity: int({ min: 0 }) },
        { unsupported: ["adjustable_quantity", "tax_rates"] },
      ),
    ),
    customer_creation: oneOf(["always", "if_required"]),
    mode: oneOf(["payment", "setup", "subscription"]),
    payment_intent_data: obj<Stripe.Checkout.SessionCreateParams.PaymentIntentData>(
      {
        description: str(),
        metadata: metadata(),
        receipt_email: str(),
        setup_future_usage: oneOf(["off_session", "on_session"]),
      },
      {
        unsupported: [
          "application_fee_amount",
          "capture_method",
          "on_behalf_of",
          "shipping",
          "statement_descriptor",
          "statement_descriptor_suffix",
          "transfer_data",
          "transfer_group",
        ],
      },
    ),
    setup_intent_data: obj<Stripe.Checkout.SessionCreateParams.SetupIntentData>(
      { metadata: metadata() },
      { unsupported: ["description", "on_behalf_of"] },
    ),
    subscription_data: obj<Stripe.Checkout.SessionCreateParams.SubscriptionData>(
      {
        description: str(),
        metadata: metadata(),
        trial_end: ts(),
        trial_period_days: int({ min: 1, max: 730 }),
        trial_settings: obj<Stripe.Checkout.SessionCreateParams.SubscriptionData.TrialSettings>({
          end_behavior: obj<Stripe.Checkout.SessionCreateParams.SubscriptionData.TrialSettings.EndBehavior>({
            missing_payment_method: oneOf(["cancel", "create_invoice", "pause"]),
          }),
        }),
      },
      {
        unsupported: [
          "application_fee_percent",
          "billing_cycle_anchor",
          "default_tax_rates",
          "invoice_settings",
          "on_behalf_of",
          "proration_behavior",
          "transfer_data",
        ],
      },
    ),
    success_url: str(),
    ui_mode: str(),
  },
  {
    unsupported: [
      "billing_address_collection",
      "consent_collection",
      "custom_fields",
      "custom_text",
      "customer_update",
      "invoice_creation",
      "locale",
      "payment_method_collection",
      "payment_method_data",
      "phone_number_collection",
      "return_url",
      "saved_payment_method_options",
      "shipping_address_collection",
      "shipping_options",
      "submit_type",
      "tax_id_collection",
    ],
  },
);

const EVENT_LIST = list<Stripe.EventListParams>({ created: range(), type: str(), types: arr(str()) });

const webhookEndpointCreate = endpointWithMetadata<Stripe.WebhookEndpointCreateParams>(
  { api_version: str(), description: str(), enabled_events: arr(str()), url: str() },
  { unsupported: ["connect"] },
);

const webhookEndpointUpdate = endpointWithMetadata<Stripe.WebhookEndpointUpdateParams>({
  description: str(),
  disabled: bool(),
  enabled_events: arr(str()),
  url: str(),
});

export const ROUTE_SPECS: Record<string, ObjectSpec> = {
  // Customers
  "POST /v1/customers": customerCreate,
  "GET /v1/customers": list<Stripe.CustomerListParams>({
    created: range(),
    email: str({ maxLength: 512 }),
    test_clock: str(),
  }),
  "GET /v1/customers/search": search,
  "GET /v1/customers/:id": retrieve(),
  "POST /v1/customers/:id": customerUpdate,
  "DELETE /v1/customers/:id": none(),
  "GET /v1/customers/:id/payment_methods": list<Stripe.CustomerListPaymentMethodsParams>(
    { type: str() },
    { unsupported: ["allow_redisplay"] },
  ),
  "GET /v1/customers/:id/payment_methods/:pm": retrieve(),

  // Payment methods
  "POST /v1/payment_methods": paymentMethodCreate,
  "GET /v1/payment_methods": list<Stripe.PaymentMethodListParams>({ customer: str(), type: str() }),
  "GET /v1/payment_methods/:id": retrieve(),
  "POST /v1/payment_methods/:id": paymentMethodUpdate,
  "POST /v1/payment_methods/:id/attach": endpoint<Stripe.PaymentMethodAttachParams>({ customer: str() }),
  "POST /v1/payment_methods/:id/detach": retrieve(),

  // Products
  "POST /v1/products": productCreate,
  "GET /v1/products": list<Stripe.ProductListParams>({ active: bool(), created: range(), ids: arr(str()) }),
  "GET /v1/products/search": search,
  "GET /v1/products/:id": retrieve(),
  "POST /v1/products/:id": productUpdate,
  "DELETE /v1/products/:id": none(),

  // Prices
  "POST /v1/prices": priceCreate,
  "GET /v1/prices": list<Stripe.PriceListParams>({
    active: bool(),
    created: range(),
    currency: currency(),
    lookup_keys: arr(str()),
    product: str(),
    recurring: obj<Stripe.PriceListParams.Recurring>(
      { interval: oneOf(INTERVALS) },
      { unsupported: ["meter", "usage_type"] },
    ),
    type: oneOf(["one_time", "recurring"]),
  }),
  "GET /v1/prices/search": search,
  "GET /v1/prices/:id": retrieve(),
  "POST /v1/prices/:id": priceUpdate,

  // Coupons and promotion codes
  "POST /v1/coupons": endpointWithMetadata<Stripe.CouponCreateParams>(
    {
      amount_off: int({ min: 0 }),
      applies_to: obj<Stripe.CouponCreateParams.AppliesTo>({ products: arr(str()) }),
      currency: currency(),
      duration: oneOf(["forever", "once", "repeating"]),
      duration_in_months: int({ min: 1 }),
      id: str({ emptyable: false }),
      max_redemptions: int({ min: 1 }),
      name: str({ maxLength: 40 }),
      // A decimal (`12.5`): checked by the handler.
      percent_off: str({ emptyable: false }),
      redeem_by: ts(),
    },
    { unsupported: ["currency_options"] },
  ),
  "GET /v1/coupons": list<Stripe.CouponListParams>({ created: range() }),
  "GET /v1/coupons/:id": retrieve(),
  "POST /v1/coupons/:id": endpointWithMetadata<Stripe.CouponUpdateParams>(
    { name: str({ maxLength: 40 }) },
    { unsupported: ["currency_options"] },
  ),
  "DELETE /v1/coupons/:id": none(),
  "POST /v1/promotion_codes": endpointWithMetadata<Stripe.PromotionCodeCreateParams>(
    {
      active: bool(),
      code: str({ emptyable: false, maxLength: 500 }),
      customer: str(),
      expires_at: ts(),
      max_redemptions: int({ min: 1 }),
      promotion: obj<Stripe.PromotionCodeCreateParams.Promotion>({ coupon: str(), type: oneOf(["coupon"]) }),
      restrictions: obj<Stripe.PromotionCodeCreateParams.Restrictions>(
        {
          first_time_transaction: bool(),
          minimum_amount: int({ min: 0 }),
          minimum_amount_currency: currency(),
        },
        { unsupported: ["currency_options"] },
      ),
    },
    { unsupported: ["customer_account"] },
  ),
  "GET /v1/promotion_codes": list<Stripe.PromotionCodeListParams>(
    { active: bool(), code: str(), coupon: str(), created: range(), customer: str() },
    { unsupported: ["customer_account"] },
  ),
  "GET /v1/promotion_codes/:id": retrieve(),
  "POST /v1/promotion_codes/:id": endpointWithMetadata<Stripe.PromotionCodeUpdateParams>(
    { active: bool() },
    { unsupported: ["restrictions"] },
  ),

  // Subscriptions
  "POST /v1/subscriptions": subscriptionCreate,
  "GET /v1/subscriptions": list<Stripe.SubscriptionListParams>({
    created: range(),
    customer: str(),
    plan: str(),
    price: str(),
    status: oneOf([
      "active",
      "all",
      "canceled",
      "ended",
      "incomplete",
      "incomplete_expired",
      "past_due",
      "paused",
      "trialing",
      "unpaid",
    ]),
    test_clock: str(),
  }),
  "GET /v1/subscriptions/search": search,
  "GET /v1/subscriptions/:id": retrieve(),
  "POST /v1/subscriptions/:id": subscriptionUpdate,
  "DELETE /v1/subscriptions/:id": endpoint<Stripe.SubscriptionCancelParams>({
    cancellation_details: cancellationDetails,
    invoice_now: bool(),
    prorate: bool(),
  }),
  "POST /v1/subscriptions/:id/resume": endpoint<Stripe.SubscriptionResumeParams>(
    {},
    { unsupported: ["billing_cycle_anchor", "payment_behavior", "proration_behavior", "proration_date"] },
  ),
  "GET /v1/subscription_items": list<Stripe.SubscriptionItemListParams>({ subscription: str() }),
  "GET /v1/subscription_items/:id": retrieve(),
  "POST /v1/subscription_items/:id": endpointWithMetadata<Stripe.SubscriptionItemUpdateParams>(
    {
      payment_behavior: oneOf(PAYMENT_BEHAVIORS),
      plan: str(),
      price: str(),
      price_data: itemPriceData,
      proration_behavior: oneOf(PRORATION_BEHAVIORS),
      proration_date: ts(),
      quantity: int({ min: 0 }),
      tax_rates: taxRates(),
    },
    { unsupported: ["billing_thresholds", "discounts", "off_session"] },
  ),

  // Subscription schedules
  "POST /v1/subscription_schedules": scheduleCreate,
  "GET /v1/subscription_schedules": list<Stripe.SubscriptionScheduleListParams>({
    created: range(),
    customer: str(),
  }),
  "GET /v1/subscription_schedules/:id": retrieve(),
  "POST /v1/subscription_schedules/:id": scheduleUpdate,
  "POST /v1/subscription_schedules/:id/release": endpoint<Stripe.SubscriptionScheduleReleaseParams>(
    {},
    { unsupported: ["preserve_cancel_date"] },
  ),
  "POST /v1/subscription_schedules/:id/cancel": endpoint<Stripe.SubscriptionScheduleCancelParams>({
    invoice_now: bool(),
    prorate: bool(),
  }),

  // Invoices
  "GET /v1/invoices/upcoming": obj({}),
  "GET /v1/invoices/upcoming/lines": obj({}),
  "POST /v1/invoices/create_preview": invoiceCreatePreview,
  "POST /v1/invoices": invoiceCreate,
  "GET /v1/invoices": list<Stripe.InvoiceListParams>({
    collection_method: oneOf(COLLECTION_METHODS),
    created: range(),
    customer: str(),
    status: oneOf(INVOICE_STATUSES),
    subscription: str(),
  }),
  "GET /v1/invoices/search": search,
  "GET /v1/invoices/:id": retrieve(),
  "GET /v1/invoices/:id/lines": list<Stripe.InvoiceListLineItemsParams>({}),
  "POST /v1/invoices/:id": invoiceUpdate,
  "DELETE /v1/invoices/:id": none(),
  "POST /v1/invoices/:id/finalize": endpoint<Stripe.InvoiceFinalizeInvoiceParams>({ auto_advance: bool() }),
  "POST /v1/invoices/:id/pay": endpoint<Stripe.InvoicePayParams>(
    { paid_out_of_band: bool(), payment_method: str() },
    { unsupported: ["forgive", "mandate", "off_session", "source"] },
  ),
  "POST /v1/invoices/:id/void": retrieve(),
  "POST /v1/invoices/:id/mark_uncollectible": retrieve(),
  "POST /v1/invoices/:id/send": retrieve(),

  // Invoice items
  "POST /v1/invoiceitems": invoiceItemCreate,
  "GET /v1/invoiceitems": list<Stripe.InvoiceItemListParams>({
    created: range(),
    customer: str(),
    invoice: str(),
    pending: bool(),
  }),
  "GET /v1/invoiceitems/:id": retrieve(),
  "POST /v1/invoiceitems/:id": invoiceItemUpdate,
  "DELETE /v1/invoiceitems/:id": none(),

  // Invoice payments, setup intents (read-only); payment intents are in route-specs-payments.ts
  "GET /v1/invoice_payments": list<Stripe.InvoicePaymentListParams>({
    invoice: str(),
    payment: obj({ type: oneOf(["payment_intent", "payment_record"]), payment_intent: str() }),
  }),
  "GET /v1/invoice_payments/:id": retrieve(),
  "GET /v1/setup_intents/:id": endpoint<Stripe.SetupIntentRetrieveParams>({ client_secret: str() }),

  // Refunds: see route-specs-payments.ts

  // Checkout
  "POST /v1/checkout/sessions": checkoutCreate,
  "GET /v1/checkout/sessions": list<Stripe.Checkout.SessionListParams>({
    created: range(),
    customer: str(),
    status: oneOf(["complete", "expired", "open"]),
    subscription: str(),
  }),
  "GET /v1/checkout/sessions/:id": retrieve(),
  "GET /v1/checkout/sessions/:id/line_items": list<Stripe.Checkout.SessionListLineItemsParams>({}),
  "POST /v1/checkout/sessions/:id/expire": retrieve(),

  // Events and webhook endpoints
  "GET /v1/events": EVENT_LIST,
  "GET /v1/events/:id": retrieve(),
  "POST /v1/webhook_endpoints": webhookEndpointCreate,
  "GET /v1/webhook_endpoints": list<Stripe.WebhookEndpointListParams>({}),
  "GET /v1/webhook_endpoints/:id": retrieve(),
  "POST /v1/webhook_endpoints/:id": webhookEndpointUpdate,
  "DELETE /v1/webhook_endpoints/:id": none(),

  // Test clocks
  "POST /v1/test_helpers/test_clocks": endpoint<Stripe.TestHelpers.TestClockCreateParams>({
    frozen_time: ts(),
    name: str({ maxLength: 300 }),
  }),
  "GET /v1/test_helpers/test_clocks": list<Stripe.TestHelpers.TestClockListParams>({}),
  "GET /v1/test_helpers/test_clocks/:id": retrieve(),
  "POST /v1/test_helpers/test_clocks/:id/advance": endpoint<Stripe.TestHelpers.TestClockAdvanceParams>({
    frozen_time: ts(),
  }),
  "DELETE /v1/test_helpers/test_clocks/:id": none(),

  // Billing meters
  "POST /v1/billing/meters": endpoint<Stripe.Billing.MeterCreateParams>({
    customer_mapping: obj<Stripe.Billing.MeterCreateParams.CustomerMapping>({
      event_payload_key: str(),
      type: oneOf(["by_id"]),
    }),
    default_aggregation: obj<Stripe.Billing.MeterCreateParams.DefaultAggregation>({
      formula: oneOf(["count", "last", "sum"]),
    }),
    display_name: str({ maxLength: 250 }),
    event_name: str({ maxLength: 100 }),
    event_time_window: oneOf(["day", "hour"]),
    value_settings: obj<Stripe.Billing.MeterCreateParams.ValueSettings>({ event_payload_key: str() }),
  }),
  "GET /v1/billing/meters": list<Stripe.Billing.MeterListParams>({ status: oneOf(["active", "inactive"]) }),
  "GET /v1/billing/meters/:id": retrieve(),
  "POST /v1/billing/meters/:id": endpoint<Stripe.Billing.MeterUpdateParams>({
    display_name: str({ maxLength: 250 }),
  }),
  "POST /v1/billing/meters/:id/deactivate": retrieve(),
  "POST /v1/billing/meters/:id/reactivate": retrieve(),
  "GET /v1/billing/meters/:id/event_summaries": list<Stripe.Billing.MeterListEventSummariesParams>(
    { customer: str(), end_time: ts(), start_time: ts() },
    { unsupported: ["value_grouping_window"] },
  ),
  "POST /v1/billing/meter_events": endpoint<Stripe.Billing.MeterEventCreateParams>({
    event_name: str({ maxLength: 100 }),
    identifier: str({ maxLength: 100 }),
    payload: metadata(),
    timestamp: ts(),
  }),

  ...PAYMENT_ROUTE_SPECS,
};
