import { formatMoney } from "@minutely/domain";
import { Badge, Card, ErrorState, Spinner } from "@minutely/ui";
import { useQuery } from "@tanstack/react-query";
import { trpc } from "../lib/trpc.ts";

export function PackagesPage() {
  const packages = useQuery(trpc.packages.list.queryOptions());
  if (packages.isPending) return <Spinner label="Loading packages" />;
  if (packages.isError) return <ErrorState error={packages.error} onRetry={() => packages.refetch()} />;
  return (
    <Card>
      <h1 className="mb-4 text-xl font-bold">Packages</h1>
      <table className="w-full text-left text-sm">
        <thead>
          <tr className="text-slate-500">
            <th className="py-2">Name</th>
            <th className="py-2">Price</th>
            <th className="py-2">Minutes</th>
            <th className="py-2">Agents</th>
            <th className="py-2">Status</th>
          </tr>
        </thead>
        <tbody>
          {packages.data.map((pkg) => (
            <tr key={pkg.id} className="border-t border-slate-100">
              <td className="py-2 font-medium">
                {pkg.name} {pkg.recommended ? <Badge tone="brand">Recommended</Badge> : null}
              </td>
              <td className="py-2">{formatMoney(pkg.monthlyPrice)}/mo</td>
              <td className="py-2">{pkg.callMinutesLimit.toLocaleString("en-US")}</td>
              <td className="py-2">{pkg.agentsAllowed}</td>
              <td className="py-2">
                {pkg.active ? <Badge tone="success">Active</Badge> : <Badge>Archived</Badge>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}
