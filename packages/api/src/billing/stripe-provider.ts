import Stripe from "stripe";
import type {
  BillingProvider,
  ProrationPreview,
  ProviderInvoice,
  ProviderScheduledChange,
  ProviderSubscription,
} from "../ports/billing.ts";
import { PaymentDeclinedError } from "../ports/billing.ts";

type Params<K extends keyof BillingProvider> = BillingProvider[K] extends (...args: infer A) => unknown
  ? A[0]
  : never;

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);
const fromSeconds = (value: number | null | undefined) => (value ? new Date(value * 1000) : null);
const idOf = (value: string | { id: string } | null | undefined) =>
  value === null || value === undefined ? null : typeof value === "string" ? value : value.id;

function toSubscription(sub: Stripe.Subscription): ProviderSubscription {
  const item = sub.items.data[0];
  if (!item) throw new Error(`Stripe subscription ${sub.id} has no items`);
  const customerId = idOf(sub.customer);
  if (!customerId) throw new Error(`Stripe subscription ${sub.id} has no customer`);
  return {
    id: sub.id,
    customerId,
    status: sub.status,
    itemId: item.id,
    priceId: item.price.id,
    currentPeriodStart: new Date(item.current_period_start * 1000),
    currentPeriodEnd: new Date(item.current_period_end * 1000),
    cancelAtPeriodEnd: sub.cancel_at_period_end,
    canceledAt: fromSeconds(sub.canceled_at),
    endedAt: fromSeconds(sub.ended_at),
    scheduleId: idOf(sub.schedule),
    testClockId: idOf(sub.test_clock),
    latestInvoiceId: idOf(sub.latest_invoice),
    metadata: { ...sub.metadata },
  };
}

function toInvoice(invoice: Stripe.Invoice): ProviderInvoice {
  if (!invoice.id) throw new Error("Stripe returned an invoice without an id");
  const customerId = idOf(invoice.customer);
  if (!customerId) throw new Error(`Stripe invoice ${invoice.id} has no customer`);
  return {
    id: invoice.id,
    customerId,
    subscriptionId: idOf(invoice.parent?.subscription_details?.subscription ?? null),
    number: invoice.number,
    status: invoice.status ?? "draft",
    billingReason: invoice.billing_reason,
    currency: invoice.currency,
    subtotal: invoice.subtotal,
    total: invoice.total,
    amountDue: invoice.amount_due,
    amountPaid: invoice.amount_paid,
    hostedInvoiceUrl: invoice.hosted_invoice_url ?? null,
    invoicePdf: invoice.invoice_pdf ?? null,
    periodStart: fromSeconds(invoice.period_start),
    periodEnd: fromSeconds(invoice.period_end),
    created: new Date(invoice.created * 1000),
    paidAt: fromSeconds(invoice.status_transitions?.paid_at),
  };
}

/** Card declines and authentication requests become a PaymentDeclinedError with a message for people. */
function declined(error: unknown): never {
  if (error instanceof Stripe.errors.StripeCardError) {
    const code = error.decline_code ?? error.code;
    if (code === "authentication_required") {
      throw new PaymentDeclinedError(
        "Your bank asks to authenticate this card. Subscribe through the secure checkout page instead.",
        "authentication_required",
      );
    }
    throw new PaymentDeclinedError(
      `Your card was declined${error.message ? `: ${error.message}` : "."} No subscription was created; try another card.`,
      "declined",
    );
  }
  throw error;
}

/** BillingProvider over the official Stripe SDK (real Stripe or the emulator, by configuration). */
export class StripeBillingProvider implements BillingProvider {
  constructor(readonly stripe: Stripe) {}

  async createProduct(input: Params<"createProduct">) {
    const product = await this.stripe.products.create(
      {
        name: input.name,
        ...(input.description ? { description: input.description } : {}),
        metadata: { minutely_plan_id: input.planId },
      },
      { idempotencyKey: input.idempotencyKey },
    );
    return { productId: product.id };
  }

  async updateProduct(productId: string, input: { name: string; description: string; active: boolean }) {
    await this.stripe.products.update(productId, {
      name: input.name,
      description: input.description || "",
      active: input.active,
    });
  }

  async createMonthlyPrice(input: Params<"createMonthlyPrice">) {
    const price = await this.stripe.prices.create(
      {
        product: input.productId,
        unit_amount: input.amountCents,
        currency: input.currency,
        recurring: { interval: "month" },
        metadata: { minutely_plan_id: input.planId },
      },
      { idempotencyKey: input.idempotencyKey },
    );
    return { priceId: price.id };
  }

  async addInvoiceItem(input: Params<"addInvoiceItem">) {
    const item = await this.stripe.invoiceItems.create(
      {
        customer: input.customerId,
        subscription: input.subscriptionId,
        amount: input.amountCents,
        currency: input.currency,
        description: input.description,
        metadata: input.metadata,
      },
      { idempotencyKey: input.idempotencyKey },
    );
    return { invoiceItemId: item.id };
  }

  async createCustomer(input: Params<"createCustomer">) {
    let testClock: string | undefined;
    if (input.withTestClock) {
      const clock = await this.stripe.testHelpers.testClocks.create(
        { frozen_time: seconds(input.withTestClock), name: `account ${input.accountId}` },
        { idempotencyKey: `${input.idempotencyKey}-clock` },
      );
      testClock = clock.id;
    }
    const customer = await this.stripe.customers.create(
      {
        email: input.email,
        name: input.name,
        metadata: { minutely_account_id: input.accountId },
        ...(testClock ? { test_clock: testClock } : {}),
      },
      { idempotencyKey: input.idempotencyKey },
    );
    return { customerId: customer.id };
  }

  async createSubscriptionCheckout(input: Params<"createSubscriptionCheckout">) {
    const session = await this.stripe.checkout.sessions.create(
      {
        mode: "subscription",
        customer: input.customerId,
        line_items: [{ price: input.priceId, quantity: 1 }],
        success_url: input.successUrl,
        cancel_url: input.cancelUrl,
        metadata: input.metadata,
        subscription_data: { metadata: input.metadata },
      },
      { idempotencyKey: input.idempotencyKey },
    );
    if (!session.url) throw new Error("Stripe returned a Checkout session without a URL");
    return { sessionId: session.id, url: session.url };
  }

  async createSetupCheckout(input: Params<"createSetupCheckout">) {
    const session = await this.stripe.checkout.sessions.create(
      {
        mode: "setup",
        customer: input.customerId,
        currency: "usd",
        success_url: input.successUrl,
        cancel_url: input.cancelUrl,
        ...(input.subscriptionId ? { metadata: { minutely_subscription_id: input.subscriptionId } } : {}),
      },
      { idempotencyKey: input.idempotencyKey },
    );
    if (!session.url) throw new Error("Stripe returned a Checkout session without a URL");
    return { sessionId: session.id, url: session.url };
  }

  async retrieveCheckout(sessionId: string) {
    const session = await this.stripe.checkout.sessions.retrieve(sessionId, { expand: ["setup_intent"] });
    const setupIntent = session.setup_intent;
    return {
      customerId: idOf(session.customer),
      mode: session.mode,
      status: session.status ?? "open",
      subscriptionId: idOf(session.subscription),
      paymentMethodId:
        setupIntent && typeof setupIntent !== "string" ? idOf(setupIntent.payment_method) : null,
    };
  }

  async attachDefaultPaymentMethod(customerId: string, paymentMethodId: string, idempotencyKey: string) {
    let attached: Stripe.PaymentMethod;
    try {
      attached = await this.stripe.paymentMethods.attach(
        paymentMethodId,
        { customer: customerId },
        { idempotencyKey: `${idempotencyKey}-attach` },
      );
    } catch (error) {
      declined(error);
    }
    await this.stripe.customers.update(
      customerId,
      { invoice_settings: { default_payment_method: attached.id } },
      { idempotencyKey: `${idempotencyKey}-default` },
    );
    return attached.id;
  }

  async createSubscription(input: Params<"createSubscription">) {
    try {
      const sub = await this.stripe.subscriptions.create(
        {
          customer: input.customerId,
          items: [{ price: input.priceId }],
          default_payment_method: input.paymentMethodId,
          payment_behavior: "error_if_incomplete",
          metadata: input.metadata,
        },
        { idempotencyKey: input.idempotencyKey },
      );
      return toSubscription(sub);
    } catch (error) {
      declined(error);
    }
  }

  async retrieveSubscription(subscriptionId: string) {
    return toSubscription(await this.stripe.subscriptions.retrieve(subscriptionId));
  }

  async retrieveScheduledChange(scheduleId: string, now: Date): Promise<ProviderScheduledChange | null> {
    const schedule = await this.stripe.subscriptionSchedules.retrieve(scheduleId);
    if (schedule.status !== "active" && schedule.status !== "not_started") return null;
    const at = seconds(now);
    const next = schedule.phases.find((phase) => phase.start_date > at);
    const price = next?.items[0]?.price;
    if (!next || !price) return null;
    return {
      scheduleId,
      priceId: typeof price === "string" ? price : price.id,
      startsAt: new Date(next.start_date * 1000),
    };
  }

  async previewPriceChange(input: Params<"previewPriceChange">): Promise<ProrationPreview> {
    const preview = await this.stripe.invoices.createPreview({
      customer: input.customerId,
      subscription: input.subscriptionId,
      subscription_details: {
        items: [{ id: input.itemId, price: input.priceId }],
        proration_behavior: "always_invoice",
        proration_date: seconds(input.prorationDate),
      },
    });
    let credit = 0;
    let charge = 0;
    for (const line of preview.lines.data) {
      if (line.amount < 0) credit += line.amount;
      else charge += line.amount;
    }
    return {
      creditCents: credit,
      chargeCents: charge,
      totalDueNowCents: preview.amount_due,
      currency: preview.currency,
      prorationDate: input.prorationDate,
    };
  }

  async changePriceNow(input: Params<"changePriceNow">) {
    try {
      const sub = await this.stripe.subscriptions.update(
        input.subscriptionId,
        {
          items: [{ id: input.itemId, price: input.priceId }],
          proration_behavior: "always_invoice",
          proration_date: seconds(input.prorationDate),
          payment_behavior: "error_if_incomplete",
        },
        { idempotencyKey: input.idempotencyKey },
      );
      return toSubscription(sub);
    } catch (error) {
      declined(error);
    }
  }

  async schedulePriceChange(input: Params<"schedulePriceChange">) {
    const sub = await this.stripe.subscriptions.retrieve(input.subscriptionId);
    const current = toSubscription(sub);
    const schedule = current.scheduleId
      ? await this.stripe.subscriptionSchedules.retrieve(current.scheduleId)
      : await this.stripe.subscriptionSchedules.create(
          { from_subscription: input.subscriptionId },
          { idempotencyKey: `${input.idempotencyKey}-schedule` },
        );
    const phase = schedule.phases[0];
    await this.stripe.subscriptionSchedules.update(
      schedule.id,
      {
        end_behavior: "release",
        phases: [
          {
            items: [{ price: current.priceId, quantity: 1 }],
            start_date: phase?.start_date ?? seconds(current.currentPeriodStart),
            end_date: seconds(current.currentPeriodEnd),
          },
          {
            items: [{ price: input.priceId, quantity: 1 }],
            duration: { interval: "month", interval_count: 1 },
          },
        ],
      },
      { idempotencyKey: `${input.idempotencyKey}-phases` },
    );
    return { scheduleId: schedule.id };
  }

  async releaseSchedule(scheduleId: string, idempotencyKey: string) {
    const schedule = await this.stripe.subscriptionSchedules.retrieve(scheduleId);
    if (schedule.status === "released" || schedule.status === "canceled" || schedule.status === "completed")
      return;
    await this.stripe.subscriptionSchedules.release(scheduleId, {}, { idempotencyKey });
  }

  async setCancelAtPeriodEnd(subscriptionId: string, cancel: boolean, idempotencyKey: string) {
    const sub = await this.stripe.subscriptions.update(
      subscriptionId,
      { cancel_at_period_end: cancel },
      { idempotencyKey },
    );
    return toSubscription(sub);
  }

  async useForSubscription(subscriptionId: string, paymentMethodId: string, idempotencyKey: string) {
    const sub = await this.stripe.subscriptions.update(
      subscriptionId,
      { default_payment_method: paymentMethodId },
      { idempotencyKey: `${idempotencyKey}-default` },
    );
    const customerId = idOf(sub.customer);
    if (!customerId) return;
    const open = await this.stripe.invoices.list({
      customer: customerId,
      subscription: subscriptionId,
      status: "open",
    });
    for (const invoice of open.data) {
      if (!invoice.id) continue;
      try {
        await this.stripe.invoices.pay(
          invoice.id,
          { payment_method: paymentMethodId },
          { idempotencyKey: `${idempotencyKey}-pay-${invoice.id}` },
        );
      } catch (error) {
        declined(error);
      }
    }
  }

  async retrieveInvoice(invoiceId: string) {
    return toInvoice(await this.stripe.invoices.retrieve(invoiceId));
  }

  async listInvoices(customerId: string, limit: number) {
    const page = await this.stripe.invoices.list({ customer: customerId, limit });
    return page.data.map(toInvoice);
  }

  parseWebhook(rawBody: Buffer, signature: string, secret: string) {
    const event = this.stripe.webhooks.constructEvent(rawBody, signature, secret);
    return {
      id: event.id,
      type: event.type,
      created: new Date(event.created * 1000),
      object: event.data.object,
    };
  }

  async advanceTestClock(testClockId: string, to: Date) {
    await this.stripe.testHelpers.testClocks.advance(testClockId, { frozen_time: seconds(to) });
  }

  async retrieveTestClock(testClockId: string) {
    const clock = await this.stripe.testHelpers.testClocks.retrieve(testClockId);
    return { id: clock.id, frozenTime: new Date(clock.frozen_time * 1000), status: clock.status };
  }
}
