import type Stripe from "stripe";

/** Produces one of every resource kind the emulator returns, through the SDK. Used by `shapes.test.ts`. */
export async function collectResources(stripe: Stripe, emulatorUrl: string): Promise<Record<string, object>> {
  const clock = await stripe.testHelpers.testClocks.create({
    frozen_time: Math.floor(Date.UTC(2031, 2, 1) / 1000),
  });
  const customer = await stripe.customers.create({
    email: "shapes@minutely.test",
    test_clock: clock.id,
    payment_method: "pm_card_visa",
    invoice_settings: { default_payment_method: "pm_card_visa" },
  });
  const pm = await stripe.paymentMethods.attach("pm_card_mastercard", { customer: customer.id });
  const product = await stripe.products.create({ name: "Shapes" });
  const price = await stripe.prices.create({
    product: product.id,
    currency: "usd",
    unit_amount: 1500,
    recurring: { interval: "month" },
  });
  const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
  const item = sub.items.data[0];
  const schedule = await stripe.subscriptionSchedules.create({ from_subscription: sub.id });
  const invoice = await stripe.invoices.retrieve(
    typeof sub.latest_invoice === "string" ? sub.latest_invoice : "",
  );
  const withPayments = await stripe.invoices.retrieve(invoice.id, { expand: ["payments"] });
  const invoicePayment = withPayments.payments?.data[0];
  const paymentIntentId = invoicePayment?.payment.payment_intent;
  const paymentIntent = await stripe.paymentIntents.retrieve(
    typeof paymentIntentId === "string" ? paymentIntentId : "",
  );
  const refund = await stripe.refunds.create({ payment_intent: paymentIntent.id, amount: 100 });
  const invoiceItem = await stripe.invoiceItems.create({
    customer: customer.id,
    amount: 250,
    currency: "usd",
    description: "Overage",
  });
  const draft = await stripe.invoices.create({
    customer: customer.id,
    pending_invoice_items_behavior: "include",
  });
  const endpoint = await stripe.webhookEndpoints.create({
    url: "http://127.0.0.1:9/hook",
    enabled_events: ["*"],
  });
  const session = await stripe.checkout.sessions.create({
    mode: "setup",
    customer: customer.id,
    currency: "usd",
    success_url: "http://localhost/ok?session={CHECKOUT_SESSION_ID}",
    cancel_url: "http://localhost/cancel",
  });
  const subscriptionSession = await stripe.checkout.sessions.create({
    mode: "subscription",
    customer: customer.id,
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: "http://localhost/ok?session={CHECKOUT_SESSION_ID}",
    cancel_url: "http://localhost/cancel",
  });
  const lineItems = await stripe.checkout.sessions.listLineItems(subscriptionSession.id);
  // Complete the setup session through the hosted page to get a SetupIntent.
  await fetch(`${emulatorUrl}/checkout/${session.id}/pay`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "card=visa&email=shapes%40minutely.test&name=Shapes",
    redirect: "manual",
  });
  const completed = await stripe.checkout.sessions.retrieve(session.id);
  const setupIntent = await stripe.setupIntents.retrieve(
    typeof completed.setup_intent === "string" ? completed.setup_intent : "",
  );
  const meter = await stripe.billing.meters.create({
    display_name: "Minutes",
    event_name: "minutes_used",
    default_aggregation: { formula: "sum" },
  });
  const meterEvent = await stripe.billing.meterEvents.create({
    event_name: "minutes_used",
    payload: { stripe_customer_id: customer.id, value: "12" },
  });
  const summaries = await stripe.billing.meters.listEventSummaries(meter.id, {
    customer: customer.id,
    start_time: clock.frozen_time - 3600,
    end_time: clock.frozen_time + 3600,
  });
  const events = await stripe.events.list({ limit: 1 });
  const otherProduct = await stripe.products.create({ name: "Delete me" });
  const deletedProduct = await stripe.products.del(otherProduct.id);
  const deletedInvoice = await stripe.invoices.del(draft.id);
  const otherItem = await stripe.invoiceItems.create({ customer: customer.id, amount: 100, currency: "usd" });
  const deletedInvoiceItem = await stripe.invoiceItems.del(otherItem.id);
  const deletedEndpoint = await stripe.webhookEndpoints.del(endpoint.id);
  const retrievedEndpoint = await stripe.webhookEndpoints.create({
    url: "http://127.0.0.1:9/other",
    enabled_events: ["invoice.paid"],
  });
  const otherCustomer = await stripe.customers.create({ email: "gone@minutely.test" });
  const deletedCustomer = await stripe.customers.del(otherCustomer.id);
  const coupon = await stripe.coupons.create({ percent_off: 10, duration: "forever" });
  const promotionCode = await stripe.promotionCodes.create({
    promotion: { type: "coupon", coupon: coupon.id },
  });
  const discounted = await stripe.subscriptions.update(sub.id, {
    discounts: [{ promotion_code: promotionCode.id }],
    expand: ["discounts"],
  });
  const otherCoupon = await stripe.coupons.create({ amount_off: 100, currency: "usd" });
  const deletedCoupon = await stripe.coupons.del(otherCoupon.id);
  const taxRate = await stripe.taxRates.create({ display_name: "VAT", percentage: 20, inclusive: false });
  const taxId = await stripe.customers.createTaxId(customer.id, { type: "eu_vat", value: "DE123456789" });
  const otherTaxId = await stripe.customers.createTaxId(customer.id, { type: "us_ein", value: "12-3456789" });
  const deletedTaxId = await stripe.customers.deleteTaxId(customer.id, otherTaxId.id);
  const otherClock = await stripe.testHelpers.testClocks.create({ frozen_time: clock.frozen_time });
  const deletedClock = await stripe.testHelpers.testClocks.del(otherClock.id);

  const resources: Record<string, object | undefined> = {
    Customer: await stripe.customers.retrieve(customer.id),
    DeletedCustomer: deletedCustomer,
    PaymentMethod: pm,
    Product: product,
    DeletedProduct: deletedProduct,
    Price: price,
    Plan: item?.plan,
    Subscription: sub,
    SubscriptionItem: item,
    SubscriptionSchedule: schedule,
    SubscriptionSchedulePhase: schedule.phases[0],
    Invoice: invoice,
    InvoiceLineItem: invoice.lines.data[0],
    DeletedInvoice: deletedInvoice,
    InvoiceItem: invoiceItem,
    DeletedInvoiceItem: deletedInvoiceItem,
    InvoicePayment: invoicePayment,
    PaymentIntent: paymentIntent,
    Refund: refund,
    SetupIntent: setupIntent,
    CheckoutSession: completed,
    LineItem: lineItems.data[0],
    Event: events.data[0],
    WebhookEndpoint: await stripe.webhookEndpoints.retrieve(retrievedEndpoint.id),
    DeletedWebhookEndpoint: deletedEndpoint,
    TestClock: await stripe.testHelpers.testClocks.retrieve(clock.id),
    DeletedTestClock: deletedClock,
    BillingMeter: meter,
    BillingMeterEvent: meterEvent,
    BillingMeterEventSummary: summaries.data[0],
    Coupon: await stripe.coupons.retrieve(coupon.id),
    DeletedCoupon: deletedCoupon,
    PromotionCode: await stripe.promotionCodes.retrieve(promotionCode.id),
    Discount: discounted.discounts[0] as Stripe.Discount,
    TaxRate: await stripe.taxRates.retrieve(taxRate.id),
    TaxId: await stripe.customers.retrieveTaxId(customer.id, taxId.id),
    DeletedTaxId: deletedTaxId,
  };
  const out: Record<string, object> = {};
  for (const [kind, value] of Object.entries(resources)) {
    if (!value) throw new Error(`no ${kind} collected`);
    // The SDK adds `lastResponse` to top-level responses; it is not part of the resource.
    const { lastResponse: _ignored, ...rest } = value as Record<string, unknown>;
    out[kind] = rest;
  }
  return out;
}
