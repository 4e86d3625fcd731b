/**
 * Shown while Stripe is the project's emulator: payments are simulated, nothing is charged. A labelled region
 * (a landmark), so screen-reader users can find it and axe's "all content in landmarks" rule holds.
 */
export function EmulatorBanner() {
  return (
    <section
      aria-label="Development notice"
      className="bg-amber-100 px-4 py-1.5 text-center text-xs font-medium text-amber-900"
    >
      <p role="note">
        Payments run on a Stripe-compatible emulator for development — not Stripe. No real money moves.
      </p>
    </section>
  );
}
