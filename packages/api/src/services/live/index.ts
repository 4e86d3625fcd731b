// Live usage: one LISTEN connection per replica (live-hub.ts) wakes the open streams (live-streams.ts) of
// the customers and admins who may see a change; the streams re-read and send it. Depends on metering.
export {
  DEFAULT_LIVE_LIMITS,
  LIVE_CHANNEL,
  LIVE_KINDS,
  LiveHub,
  type LiveKind,
  type LiveLimits,
  type LiveNotice,
  parseLiveNotice,
} from "../../ports/live.ts";
export {
  LIVE_COALESCE_MS,
  type LiveAdminMessage,
  type LiveUsageMessage,
  type LiveUsageSnapshot,
  liveAdminStream,
  liveUsageStream,
  readLiveUsage,
  sessionStillActive,
} from "./live-streams.ts";
