// The customer dashboard in one read, composed from the other groups' services.
export { type Dashboard, type DashboardInvoice, dashboard, type QuickAction } from "./dashboard.ts";
