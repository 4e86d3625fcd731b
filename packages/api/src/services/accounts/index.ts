// What an account has and may use: its entitlements (from its subscription's package), voice agents
// within the package's limit, API keys, the Integration page and the analytics page, the account's settings
// and its deletion (docs/accounts.md). Depends on catalog and metering.

export {
  type AgentsView,
  activateAgent,
  agentsViewOf,
  createAgent,
  deactivateAgent,
  enforceAgentLimit,
  listAgents,
  MAX_AGENT_NAME_LENGTH,
  renameAgent,
} from "./agents.ts";
export { usageAnalytics } from "./analytics.ts";
export { authenticateApiKey, createApiKey, hasApiAccess, listApiKeys, revokeApiKey } from "./api-keys.ts";
export {
  type AccountDeletion,
  DELETED_ACCOUNT_NAME,
  DELETED_USER_NAME,
  deleteAccount,
  deletedUserEmail,
} from "./deletion.ts";
export {
  type AccountEntitlements,
  accountEntitlements,
  entitlementsOf,
  requireAnalytics,
} from "./entitlements.ts";
export { type IntegrationView, integrationView } from "./integration.ts";
export {
  deviceOf,
  listSessions,
  revokeOtherSessions,
  revokeSession,
  type SessionView,
} from "./sessions.ts";
export { type AccountSettings, accountSettings, updateAccountSettings } from "./settings.ts";
export {
  ASSIGNABLE_ROLES,
  type AssignableRole,
  acceptInvitation,
  accountTeam,
  changeMemberRole,
  hashInvitationToken,
  INVITATION_TTL_MS,
  type InvitationPreview,
  invitationPreview,
  inviteMember,
  leaveAccount,
  type MembershipView,
  myMemberships,
  type PendingInvitation,
  RESEND_MIN_INTERVAL_MS,
  removeMember,
  resendInvitation,
  revokeInvitation,
  switchAccount,
  type TeamMember,
  type TeamView,
  teamView,
  transferOwnership,
} from "./team.ts";
