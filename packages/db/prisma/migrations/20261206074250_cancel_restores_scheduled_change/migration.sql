-- AlterTable
ALTER TABLE "subscription" ADD COLUMN     "resume_keep_agent_ids" UUID[] DEFAULT ARRAY[]::UUID[],
ADD COLUMN     "resume_scheduled_plan_id" UUID;
