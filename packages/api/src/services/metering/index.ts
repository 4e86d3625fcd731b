// Metering: call minutes counted once per call (usage-ingest.ts, grouped by usage-coalescer.ts), reserved
// before a call (call-authorization.ts), read per period (usage-read.ts), alerts at thresholds
// (usage-alerts.ts) and overage billed to Stripe (overage.ts), all over one account period rule
// (subscription.ts, periods.ts) and the plan each period records (period-plans.ts). Depends on no other
// group.
export {
  type AuthorizeCallInput,
  authorizeCallRequest,
  CALL_DENIALS,
  type CallAuthorizationResult,
  expireCallReservations,
  RESERVATION_MINUTES,
  RESERVATION_TTL_MS,
} from "./call-authorization.ts";
export {
  billOverage,
  enqueueOverageReport,
  type OverageBill,
  reportOverage,
  withdrawCurrentOverage,
} from "./overage.ts";
export { drawFromPacks, enqueuePackTopUp, packDrawNeeded } from "./pack-draws.ts";
export { settleCurrentPeriodPlan } from "./period-plans.ts";
export { accountPeriodOf, nowFor } from "./periods.ts";
export { type SpendCapView, setSpendCap, spendCapView } from "./spend-cap.ts";
export {
  collectionPauseOf,
  endedBy,
  loadMeteringSubscription,
  METERING_TX_OPTIONS,
  type MeteringSubscription,
  meteringSubscriptionOf,
} from "./subscription.ts";
export {
  ACTIVE_ALERTS_SHOWN,
  addThreshold,
  alertViewOf,
  dismissAlert,
  listActiveAlerts,
  listThresholds,
  MAX_THRESHOLD_PERCENT,
  MIN_THRESHOLD_PERCENT,
  removeThreshold,
  sendUsageAlertEmail,
  type UsageAlertView,
} from "./usage-alerts.ts";
export { type UsageCoalescerOptions, UsageIngestCoalescer } from "./usage-coalescer.ts";
export {
  type IngestResult,
  ingestUsageEvents,
  LATE_WINDOW_DAYS,
  LATE_WINDOW_MS,
  MAX_EVENTS_PER_BATCH,
  USAGE_REJECTION_REASONS,
  type UsageEventInput,
  type UsageEventResult,
} from "./usage-ingest.ts";
export {
  type AgentUsage,
  type BreakdownRow,
  type CurrentUsage,
  currentUsage,
  currentUsageOf,
  type DailyUsagePoint,
  dailyPointsOf,
  dailyUsage,
  fullDaysOf,
  usageByAgent,
  usageByDirection,
} from "./usage-read.ts";
