import { formatMoney } from "@minutely/domain";
import { Badge, Card, ErrorState, Spinner } from "@minutely/ui";
import { useQuery } from "@tanstack/react-query";
import { trpc } from "../lib/trpc.ts";

export function PackagesPage() {
  const catalog = useQuery(trpc.catalog.list.queryOptions());
  if (catalog.isPending) return <Spinner label="Loading packages" />;
  if (catalog.isError) return <ErrorState error={catalog.error} onRetry={() => catalog.refetch()} />;
  const { packages, comparison } = catalog.data;
  return (
    <div className="space-y-8">
      <div>
        <h1 className="text-2xl font-bold">Choose your package</h1>
        <p className="text-slate-600">Call minutes and agents for your voice AI, billed monthly.</p>
      </div>
      <ul className="grid gap-4 md:grid-cols-3" aria-label="Packages">
        {packages.map((pkg) => (
          <li key={pkg.id}>
            <Card
              className={pkg.recommended ? "ring-2 ring-brand-500" : undefined}
              data-testid={`package-${pkg.name}`}
            >
              <div className="flex items-center justify-between">
                <h2 className="text-lg font-semibold">{pkg.name}</h2>
                {pkg.recommended ? <Badge tone="brand">Recommended</Badge> : null}
              </div>
              <p className="mt-2 text-3xl font-bold">
                {formatMoney(pkg.monthlyPrice)}
                <span className="text-base font-normal text-slate-500">/month</span>
              </p>
              <p className="mt-1 text-sm text-slate-600">{pkg.description}</p>
              <ul className="mt-4 space-y-1 text-sm">
                <li>{pkg.callMinutesLimit.toLocaleString("en-US")} call minutes</li>
                <li>
                  {pkg.agentsAllowed} {pkg.agentsAllowed === 1 ? "agent" : "agents"}
                </li>
              </ul>
            </Card>
          </li>
        ))}
      </ul>
      <Card>
        <h2 className="mb-3 text-lg font-semibold">Compare packages</h2>
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead>
              <tr>
                <th scope="col" className="py-2 pr-4">
                  Feature
                </th>
                {packages.map((pkg) => (
                  <th key={pkg.id} scope="col" className="py-2 pr-4">
                    {pkg.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {comparison.map((row) => (
                <tr key={row.feature} className="border-t border-slate-100">
                  <th scope="row" className="py-2 pr-4 font-medium">
                    {row.feature}
                  </th>
                  {row.cells.map((cell) => (
                    <td key={cell.planName} className="py-2 pr-4">
                      {cell.value}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>
    </div>
  );
}
