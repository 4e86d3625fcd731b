/** Shown while Stripe is the project's emulator: payments are simulated, nothing is charged. */
export function EmulatorBanner() {
  return (
    <div role="note" className="bg-amber-100 px-4 py-1.5 text-center text-xs font-medium text-amber-900">
      Payments run on a Stripe-compatible emulator for development — not Stripe. No real money moves.
    </div>
  );
}
