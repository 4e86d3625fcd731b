import type Stripe from "stripe";
import type { EmulatorCore } from "../core.ts";
import type { InvoicePaymentRec, PaymentIntentRec, SetupIntentRec } from "../state.ts";

export function buildPaymentIntent(core: EmulatorCore, rec: PaymentIntentRec): Stripe.PaymentIntent {
  const baseUrl = core.baseUrl;
  return {
    id: rec.id,
    object: "payment_intent",
    allowed_payment_method_types: null,
    amount: rec.amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: rec.status === "succeeded" ? rec.amount : 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: rec.status === "canceled" ? (rec.canceled_at ?? rec.created) : null,
    cancellation_reason: (rec.cancellation_reason ?? null) as Stripe.PaymentIntent.CancellationReason | null,
    capture_method: "automatic",
    client_secret: rec.client_secret,
    confirmation_method: "automatic",
    created: rec.created,
    currency: rec.currency,
    customer: rec.customer,
    customer_account: null,
    description: rec.description,
    excluded_payment_method_types: null,
    last_payment_error: rec.last_payment_error
      ? {
          code: rec.last_payment_error.code,
          ...(rec.last_payment_error.decline_code
            ? { decline_code: rec.last_payment_error.decline_code }
            : {}),
          message: rec.last_payment_error.message,
          type: rec.last_payment_error.type,
        }
      : null,
    latest_charge: rec.latest_charge ?? null,
    livemode: false,
    managed_payments: null,
    metadata: rec.metadata,
    next_action:
      rec.status === "requires_action"
        ? {
            type: "redirect_to_url",
            redirect_to_url: {
              return_url: rec.return_url ?? null,
              url: `${baseUrl}/payment_intents/${rec.id}/authenticate`,
            },
          }
        : null,
    on_behalf_of: null,
    payment_method: rec.payment_method,
    payment_method_configuration_details: null,
    payment_method_options: null,
    payment_method_types: ["card"],
    payment_record: null,
    processing: null,
    receipt_email: rec.receipt_email ?? null,
    review: null,
    setup_future_usage: rec.setup_future_usage ?? null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: rec.status,
    transfer_group: null,
  };
}

export function buildInvoicePayment(rec: InvoicePaymentRec): Stripe.InvoicePayment {
  return {
    id: rec.id,
    object: "invoice_payment",
    amount_paid: rec.amount_paid,
    amount_requested: rec.amount_requested,
    created: rec.created,
    currency: rec.currency,
    invoice: rec.invoice,
    is_default: true,
    livemode: false,
    payment: { payment_intent: rec.payment_intent, type: "payment_intent" },
    status: rec.status,
    status_transitions: { canceled_at: rec.status === "canceled" ? rec.created : null, paid_at: rec.paid_at },
  };
}

export function buildSetupIntent(rec: SetupIntentRec): Stripe.SetupIntent {
  return {
    id: rec.id,
    object: "setup_intent",
    allowed_payment_method_types: null,
    application: null,
    automatic_payment_methods: null,
    cancellation_reason: null,
    client_secret: rec.client_secret,
    created: rec.created,
    customer: rec.customer,
    customer_account: null,
    description: rec.description,
    excluded_payment_method_types: null,
    flow_directions: null,
    last_setup_error: null,
    latest_attempt: null,
    livemode: false,
    mandate: null,
    metadata: rec.metadata,
    next_action: null,
    on_behalf_of: null,
    payment_method: rec.payment_method,
    payment_method_configuration_details: null,
    payment_method_options: null,
    payment_method_types: ["card"],
    single_use_mandate: null,
    status: rec.status,
    usage: "off_session",
  };
}
