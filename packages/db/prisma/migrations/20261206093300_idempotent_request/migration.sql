-- CreateTable
CREATE TABLE "idempotent_request" (
    "user_id" UUID NOT NULL,
    "procedure" VARCHAR(100) NOT NULL,
    "key" VARCHAR(64) NOT NULL,
    "input_hash" CHAR(64) NOT NULL,
    "holder" UUID,
    "lease_expires_at" TIMESTAMPTZ(3) NOT NULL,
    "result" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "idempotent_request_pkey" PRIMARY KEY ("user_id","procedure","key")
);

-- CreateIndex
CREATE INDEX "idempotent_request_expires_at_idx" ON "idempotent_request"("expires_at");
