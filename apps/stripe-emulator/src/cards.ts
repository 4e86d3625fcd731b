import { createHash } from "node:crypto";
import type { CardRec } from "./state.ts";

export type CardBehavior =
  /** Attaches and charges fine. */
  | "succeed"
  /** Declines as soon as it is attached or charged. */
  | "decline"
  /** Attaches fine; every charge declines (`4000000000000341`). */
  | "decline_on_charge"
  /** Charges need 3-D Secure authentication (off-session charges end in `requires_action`). */
  | "requires_action"
  /** Needs authentication until it is set up for off-session use (`4000002500003155`). */
  | "requires_action_until_set_up";

export interface Decline {
  code: string;
  decline_code: string;
  message: string;
}

export interface TestCard {
  /** `pm_card_*` ids accepted in place of a PaymentMethod id. */
  paymentMethods: string[];
  /** `tok_*` tokens accepted in `card[token]`. */
  tokens: string[];
  number: string;
  brand: string;
  funding: "credit" | "debit";
  behavior: CardBehavior;
  decline?: Decline;
  /** For the hosted checkout page. */
  label: string;
  /** Stable id for form controls on the hosted checkout page. */
  slug: string;
}

const GENERIC_DECLINE: Decline = {
  code: "card_declined",
  decline_code: "generic_decline",
  message: "Your card was declined.",
};

/** Stripe's documented test cards that the emulator understands. */
export const TEST_CARDS: TestCard[] = [
  {
    slug: "visa",
    paymentMethods: ["pm_card_visa"],
    tokens: ["tok_visa"],
    number: "4242424242424242",
    brand: "visa",
    funding: "credit",
    behavior: "succeed",
    label: "Visa •••• 4242 — succeeds",
  },
  {
    slug: "mastercard",
    paymentMethods: ["pm_card_mastercard"],
    tokens: ["tok_mastercard"],
    number: "5555555555554444",
    brand: "mastercard",
    funding: "credit",
    behavior: "succeed",
    label: "Mastercard •••• 4444 — succeeds",
  },
  {
    slug: "visa-debit",
    paymentMethods: ["pm_card_visa_debit"],
    tokens: ["tok_visa_debit"],
    number: "4000056655665556",
    brand: "visa",
    funding: "debit",
    behavior: "succeed",
    label: "Visa debit •••• 5556 — succeeds",
  },
  {
    slug: "amex",
    paymentMethods: ["pm_card_amex"],
    tokens: ["tok_amex"],
    number: "378282246310005",
    brand: "amex",
    funding: "credit",
    behavior: "succeed",
    label: "American Express •••• 0005 — succeeds",
  },
  {
    slug: "declined",
    paymentMethods: ["pm_card_visa_chargeDeclined", "pm_card_chargeDeclined"],
    tokens: ["tok_chargeDeclined", "tok_visa_chargeDeclined"],
    number: "4000000000000002",
    brand: "visa",
    funding: "credit",
    behavior: "decline",
    decline: GENERIC_DECLINE,
    label: "Visa •••• 0002 — declined",
  },
  {
    slug: "insufficient-funds",
    paymentMethods: [
      "pm_card_visa_chargeDeclinedInsufficientFunds",
      "pm_card_chargeDeclinedInsufficientFunds",
    ],
    tokens: ["tok_chargeDeclinedInsufficientFunds"],
    number: "4000000000009995",
    brand: "visa",
    funding: "credit",
    behavior: "decline",
    decline: {
      code: "card_declined",
      decline_code: "insufficient_funds",
      message: "Your card has insufficient funds.",
    },
    label: "Visa •••• 9995 — declined, insufficient funds",
  },
  {
    slug: "expired",
    paymentMethods: ["pm_card_chargeDeclinedExpiredCard", "pm_card_visa_chargeDeclinedExpiredCard"],
    tokens: ["tok_chargeDeclinedExpiredCard"],
    number: "4000000000000069",
    brand: "visa",
    funding: "credit",
    behavior: "decline",
    decline: { code: "expired_card", decline_code: "expired_card", message: "Your card has expired." },
    label: "Visa •••• 0069 — declined, expired card",
  },
  {
    slug: "charge-customer-fail",
    paymentMethods: ["pm_card_chargeCustomerFail"],
    tokens: ["tok_chargeCustomerFail"],
    number: "4000000000000341",
    brand: "visa",
    funding: "credit",
    behavior: "decline_on_charge",
    decline: GENERIC_DECLINE,
    label: "Visa •••• 0341 — saves fine, later charges fail",
  },
  {
    slug: "authentication-required",
    paymentMethods: ["pm_card_authenticationRequired", "pm_card_threeDSecureRequired"],
    tokens: ["tok_authenticationRequired"],
    number: "4000002760003184",
    brand: "visa",
    funding: "credit",
    behavior: "requires_action",
    decline: {
      code: "authentication_required",
      decline_code: "authentication_required",
      message: "Your card was declined. This transaction requires authentication.",
    },
    label: "Visa •••• 3184 — requires 3-D Secure authentication",
  },
  {
    slug: "authentication-required-on-setup",
    paymentMethods: ["pm_card_authenticationRequiredOnSetup"],
    tokens: ["tok_authenticationRequiredOnSetup"],
    number: "4000002500003155",
    brand: "visa",
    funding: "credit",
    behavior: "requires_action_until_set_up",
    decline: {
      code: "authentication_required",
      decline_code: "authentication_required",
      message: "Your card was declined. This transaction requires authentication.",
    },
    label: "Visa •••• 3155 — 3-D Secure once, then saved for off-session payments",
  },
];

export function cardByPaymentMethodId(id: string): TestCard | undefined {
  return TEST_CARDS.find((card) => card.paymentMethods.includes(id));
}

export function cardByToken(token: string): TestCard | undefined {
  return TEST_CARDS.find((card) => card.tokens.includes(token));
}

export function cardByNumber(number: string): TestCard | undefined {
  const digits = number.replace(/\D/g, "");
  return TEST_CARDS.find((card) => card.number === digits);
}

export function cardBySlug(slug: string): TestCard | undefined {
  return TEST_CARDS.find((card) => card.slug === slug);
}

export function cardByLast4(brand: string, last4: string): TestCard | undefined {
  return TEST_CARDS.find((card) => card.brand === brand && card.number.endsWith(last4));
}

export function cardRecord(card: TestCard, year: number): CardRec {
  return {
    brand: card.brand,
    display_brand: card.brand === "amex" ? "american_express" : card.brand,
    last4: card.number.slice(-4),
    exp_month: 12,
    exp_year: year + 5,
    funding: card.funding,
    country: "US",
    fingerprint: createHash("sha256").update(card.number).digest("base64url").slice(0, 16),
  };
}

/** What happens when a card is charged. */
export function chargeOutcome(
  card: CardRec,
  authenticated = false,
  setUpForOffSession = false,
): { ok: true } | { ok: false; action: boolean; decline: Decline } {
  const test = cardByLast4(card.brand, card.last4);
  if (!test || test.behavior === "succeed") return { ok: true };
  const needsAuth =
    test.behavior === "requires_action" ||
    (test.behavior === "requires_action_until_set_up" && !setUpForOffSession);
  if (test.behavior === "requires_action_until_set_up" && !needsAuth) return { ok: true };
  if (needsAuth && authenticated) return { ok: true };
  return {
    ok: false,
    action: needsAuth,
    decline: test.decline ?? GENERIC_DECLINE,
  };
}
