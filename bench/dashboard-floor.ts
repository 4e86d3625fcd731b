// The dashboard's floor (issue #20): the JSON `dashboard` (packages/api/src/services/dashboard/) answers for
// the signed-in account, built by PostgreSQL in ONE hand-written statement, session included, on the pool
// under the API's Prisma client (databasePoolOf). What tRPC and the service add on top of the data is measured against it in
// `pnpm bench` ("dashboard.get over tRPC vs the SQL floor"); dashboard-floor.test.ts shows it answers the
// same data as the service. The domain rules the service applies in TypeScript are written here in SQL:
// the current subscription (currentSubscriptionOf), the account's now (a test clock ahead) and its current
// period (currentBillingPeriod, monthly periods anchored at the period end), the usage summary and overage,
// the zero-filled daily series (whole UTC days from the daily rollup, partial edge days from the events),
// the invoices' lines read defensively (invoiceLinesOf), the entitlements, the forecast with its plan advice
// and messages (usageOutlook), the greeting and the quick actions. What it leaves out, and why that keeps
// it a floor: bench/README.md ("Dashboard read").
import type pg from "pg";

/** The newest invoices listed (DASHBOARD_INVOICES of the service). */
const INVOICES = 5;
/** The most active alerts listed (ACTIVE_ALERTS_SHOWN of the service). */
const ALERTS = 50;
/** How long before its period a late call may have started (LATE_WINDOW_DAYS of the service). */
const LATE_WINDOW_HOURS = 35 * 24;
/** No forecast extrapolation during the period's first hour (MIN_FORECAST_ELAPSED_MS of the domain). */
const MIN_FORECAST_ELAPSED_MS = 3_600_000;
/** A customer is new for at most a day after subscribing (NEW_CUSTOMER_MS of the service). */
const NEW_CUSTOMER_MS = 86_400_000;

/** A timestamptz as JSON.stringify writes a Date: UTC, milliseconds, `Z`. */
const iso = (t: string) => `to_char((${t}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
/** Milliseconds since the epoch (the columns hold milliseconds, so this is exact). */
const ms = (t: string) => `floor(extract(epoch FROM (${t})) * 1000)::bigint`;
/** A whole number as formatNumber writes it: "1,000". */
const num = (n: string) => `to_char((${n}), 'FM999,999,999,999,999,990')`;
/** Minor units of usd, eur or gbp as formatMoney (en-US) writes them: "$1,234.50". */
const moneyText = (amount: string, currency: string) =>
  `(CASE (${currency}) WHEN 'usd' THEN '$' WHEN 'eur' THEN '€' WHEN 'gbp' THEN '£' END || ` +
  `to_char((${amount}) / 100.0, 'FM999,999,999,999,999,990.00'))`;
const money = (amount: string, currency: string) =>
  `json_build_object('amount', (${amount}), 'currency', (${currency}))`;
/** `anchor` plus `months` calendar months in UTC, the day clamped to the month (addMonthsClamped). */
const addMonths = (anchor: string, months: string) =>
  `(((${anchor}) AT TIME ZONE 'UTC') + make_interval(months => (${months}))) AT TIME ZONE 'UTC'`;
/** A plan's cost at `minutes` (monthlyCostFor): the price plus any overage. */
const costAt = (p: string, minutes: string) =>
  `(${p}.price + CASE WHEN ${p}.over IS NULL THEN 0 ELSE greatest((${minutes}) - ${p}.lim, 0) * ${p}.over END)`;
/** The cheapest active plan able to serve `minutes`, ties as cheapestPlanFor breaks them. */
const cheapest = (minutes: string, where: string) => `
    SELECT p.name, p.name_key, p.price, ${costAt("p", minutes)} AS cost
    FROM plan p
    WHERE p.active AND ${where} AND (p.over IS NOT NULL OR (${minutes}) <= p.lim)
    ORDER BY cost, p.lim DESC, p.sort_order, p.name COLLATE "C"
    LIMIT 1`;
const ACCESS = `('active', 'trialing', 'past_due')`;
const LIVE = `('unpaid', 'incomplete', 'paused')`;

/** $1: the session token (its cookie's signature checked), $2: the route clock's now. */
export const DASHBOARD_FLOOR_SQL = `
WITH viewer AS (
  SELECT u.id AS user_id, u.email, u.name, m.account_id, s.created_at AS session_started_at,
    $2::timestamptz AS wall
  FROM session s JOIN "user" u ON u.id = s.user_id
  -- The session's active account when the user is a member of it, else their oldest membership.
  JOIN LATERAL (
    SELECT account_id FROM account_member WHERE user_id = u.id
    ORDER BY (account_id = s.active_account_id) DESC NULLS LAST, created_at, account_id LIMIT 1
  ) m ON true
  WHERE s.token = $1 AND s.expires_at >= $2::timestamptz
),
plan AS (
  SELECT p.id, p.name, lower(btrim(p.name)) AS name_key, lower(btrim(p.currency)) AS currency,
    p.monthly_price_cents AS price, p.call_minutes_limit AS lim, p.agents_allowed, p.analytics_access,
    p.api_access, p.overage_price_cents_per_minute AS over, p.active, p.sort_order
  FROM subscription_plan p
),
subs AS (
  SELECT s.*, s.status IN ${ACCESS} AS grants,
    row_number() OVER (ORDER BY CASE WHEN s.status IN ${ACCESS} THEN 0 WHEN s.status IN ${LIVE} THEN 1 ELSE 2 END,
      s.created_at DESC, s.id DESC) AS pick
  FROM subscription s WHERE s.account_id = (SELECT account_id FROM viewer)
),
cur AS (
  SELECT s.id, s.account_id, s.status::text AS status, s.grants,
    s.status IN ('past_due', 'unpaid', 'incomplete') AS needs_payment, s.stripe_subscription_id,
    s.current_period_start, s.current_period_end, s.cancel_at_period_end, s.scheduled_plan_id,
    s.scheduled_change_at, s.resume_scheduled_plan_id,
    s.trial_start, s.trial_end, s.default_payment_method_id IS NOT NULL AS card_on_file,
    p.id AS plan_id, p.name AS plan_name, p.name_key, p.currency, p.price, p.lim, p.agents_allowed,
    p.analytics_access, p.api_access, p.over,
    greatest(v.wall, s.test_clock_time) AS now,
    s.pause_behavior, COALESCE(s.pause_starts_at, s.current_period_start) AS pause_starts_at, s.pause_resumes_at,
    -- The domain's isPausedAt: Stripe's status paused, or a collection pause in effect at the account's now.
    s.status = 'paused' OR (s.pause_behavior IS NOT NULL
      AND greatest(v.wall, s.test_clock_time) >= COALESCE(s.pause_starts_at, s.current_period_start)) AS paused,
    NOT EXISTS (SELECT 1 FROM subs x WHERE x.status NOT IN ('canceled', 'incomplete_expired')) AS ended
  FROM subs s JOIN plan p ON p.id = s.plan_id CROSS JOIN viewer v
  WHERE s.pick = 1
),
per AS MATERIALIZED (
  SELECT c.*, w.ps, w.pe, u.ps_utc, u.pe_utc, d.first_full, d.end_full,
    d.first_full < d.end_full AS whole_days,
    CASE WHEN d.first_full < d.end_full THEN d.first_full AT TIME ZONE 'UTC' ELSE w.pe END AS events_to,
    d.end_full AT TIME ZONE 'UTC' AS end_full_tz,
    ${ms("w.pe")} - ${ms("w.ps")} AS len_ms,
    ${ms("c.now")} - ${ms("w.ps")} AS since_ms
  FROM cur c
  CROSS JOIN LATERAL (
    SELECT c.current_period_start AS ps, c.current_period_end AS pe
    WHERE c.ended OR c.now < c.current_period_end
    UNION ALL
    SELECT m.ps, m.pe
    FROM generate_series(
      ((date_part('year', c.now AT TIME ZONE 'UTC') - date_part('year', c.current_period_end AT TIME ZONE 'UTC')) * 12
        + date_part('month', c.now AT TIME ZONE 'UTC') - date_part('month', c.current_period_end AT TIME ZONE 'UTC'))::int - 1,
      ((date_part('year', c.now AT TIME ZONE 'UTC') - date_part('year', c.current_period_end AT TIME ZONE 'UTC')) * 12
        + date_part('month', c.now AT TIME ZONE 'UTC') - date_part('month', c.current_period_end AT TIME ZONE 'UTC'))::int
    ) AS k
    CROSS JOIN LATERAL (
      SELECT ${addMonths("c.current_period_end", "k")} AS ps, ${addMonths("c.current_period_end", "k + 1")} AS pe
    ) m
    WHERE NOT (c.ended OR c.now < c.current_period_end) AND m.ps <= c.now AND c.now < m.pe
    LIMIT 1
  ) w
  CROSS JOIN LATERAL (SELECT w.ps AT TIME ZONE 'UTC' AS ps_utc, w.pe AT TIME ZONE 'UTC' AS pe_utc) u
  CROSS JOIN LATERAL (
    SELECT CASE WHEN date_trunc('day', u.ps_utc) = u.ps_utc THEN u.ps_utc
        ELSE date_trunc('day', u.ps_utc) + interval '1 day' END AS first_full,
      date_trunc('day', u.pe_utc) AS end_full
  ) d
),
ev AS (
  -- The account's events the dashboard reads, in one scan: those of the period's partial edge days and the
  -- late ones received during it. Scalar subqueries of the one-row CTEs (InitPlans), not joins: PostgreSQL
  -- then reads usage_event by its indexes, in the partitions of those months only (pruned when the
  -- statement starts), whatever the table's size.
  SELECT e.started_at, e.direction::text AS direction, e.billable_minutes, e.late, e.received_at
  FROM usage_event e
  WHERE e.account_id = (SELECT account_id FROM viewer)
    AND ((e.started_at >= (SELECT ps FROM per) AND e.started_at < (SELECT events_to FROM per))
      OR ((SELECT whole_days FROM per) AND e.started_at >= (SELECT end_full_tz FROM per)
        AND e.started_at < (SELECT pe FROM per))
      OR (e.late AND e.received_at >= (SELECT ps FROM per)
        AND e.started_at >= (SELECT ps FROM per) - interval '${LATE_WINDOW_HOURS} hours'))
),
facts AS (
  SELECT per.*, COALESCE(r.minutes, 0) AS used, COALESCE(r.calls, 0) AS calls,
    COALESCE(r.overage_reported, 0) AS reported,
    (SELECT COALESCE(sum(c.minutes), 0)::int FROM call_reservation c
      WHERE c.account_id = (SELECT account_id FROM viewer) AND c.status = 'held'
        AND c.expires_at > (SELECT now FROM per)) AS held,
    late.calls AS late_calls, late.minutes AS late_minutes
  FROM per
  LEFT JOIN usage_period_rollup r
    ON r.account_id = (SELECT account_id FROM viewer) AND r.period_start = (SELECT ps FROM per)
  CROSS JOIN (
    SELECT count(*)::int AS calls, COALESCE(sum(ev.billable_minutes), 0)::int AS minutes FROM ev, per
    WHERE ev.late AND ev.received_at >= per.ps AND ev.started_at >= per.ps - interval '${LATE_WINDOW_HOURS} hours'
  ) late
),
days AS (
  SELECT d AS day FROM per, generate_series(date_trunc('day', per.ps_utc), per.pe_utc, interval '1 day') AS d
  WHERE per.pe > per.ps AND d < per.pe_utc
),
breakdown AS (
  -- The whole days from the daily rollup, the hours before and after them from the events.
  SELECT r.day::timestamp AS day, r.direction::text AS direction, r.minutes, r.calls
  FROM usage_daily_rollup r
  WHERE (SELECT whole_days FROM per) AND r.account_id = (SELECT account_id FROM viewer)
    AND r.day >= (SELECT first_full::date FROM per) AND r.day < (SELECT end_full::date FROM per)
  UNION ALL
  SELECT date_trunc('day', ev.started_at AT TIME ZONE 'UTC'), ev.direction, ev.billable_minutes, 1
  FROM ev, per
  WHERE (ev.started_at >= per.ps AND ev.started_at < per.events_to)
    OR (per.whole_days AND ev.started_at >= per.end_full_tz AND ev.started_at < per.pe)
),
daily AS (
  SELECT json_agg(json_build_object('day', to_char(x.day, 'YYYY-MM-DD'), 'minutes', x.minutes, 'calls', x.calls,
      'inboundMinutes', x.inbound, 'outboundMinutes', x.outbound) ORDER BY x.day) AS list
  FROM (
    SELECT days.day, COALESCE(sum(b.minutes), 0)::int AS minutes, COALESCE(sum(b.calls), 0)::int AS calls,
      COALESCE(sum(b.minutes) FILTER (WHERE b.direction = 'inbound'), 0)::int AS inbound,
      COALESCE(sum(b.minutes) FILTER (WHERE b.direction <> 'inbound'), 0)::int AS outbound
    FROM days LEFT JOIN breakdown b ON b.day = days.day
    GROUP BY days.day
  ) x
),
alerts AS (
  SELECT json_agg(json_build_object('id', a.id, 'kind', a.kind, 'thresholdPercent', a.threshold_percent,
      'periodStart', ${iso("a.period_start")}, 'minutesUsed', a.minutes_used, 'minutesLimit', a.minutes_limit,
      'message', a.message, 'createdAt', ${iso("a.created_at")}, 'emailed', a.emailed_at IS NOT NULL)
    ORDER BY a.created_at DESC, a.threshold_percent DESC) AS list
  FROM (
    SELECT a.* FROM usage_alert a
    WHERE a.account_id = (SELECT account_id FROM viewer) AND a.dismissed_at IS NULL
      AND a.period_start = (SELECT ps FROM per) AND a.minutes_limit = (SELECT lim FROM per)
    ORDER BY a.created_at DESC, a.threshold_percent DESC LIMIT ${ALERTS}
  ) a
),
agents AS (
  SELECT count(*) FILTER (WHERE g.active)::int AS active, count(*)::int AS total
  FROM agent g WHERE g.account_id = (SELECT account_id FROM viewer)
),
invoices AS (
  SELECT json_agg(json_build_object('id', b.id, 'number', b.number, 'date', ${iso("b.issued_at")},
      'amountCents', b.total_cents, 'subtotalCents', b.subtotal_cents, 'discountCents', b.discount_cents,
      'taxCents', b.tax_cents,
      'amountDueCents', b.amount_due_cents, 'amountPaidCents', b.amount_paid_cents,
      'refundedCents', GREATEST(b.refunded_cents, CASE WHEN EXISTS (
          SELECT 1 FROM subs s JOIN duplicate_subscription d
            ON d.account_id = s.account_id AND d.stripe_subscription_id = s.stripe_subscription_id
          WHERE s.id = b.subscription_id AND d.status = 'resolved'
        ) THEN b.amount_paid_cents ELSE 0 END),
      'creditedCents', b.credited_cents,
      'currency', b.currency::text, 'status', b.status,
      'description', CASE b.billing_reason WHEN 'subscription_create' THEN 'First payment'
        WHEN 'subscription_cycle' THEN 'Renewal' WHEN 'subscription_update' THEN 'Plan change (prorated)'
        WHEN 'manual' THEN 'Manual' ELSE COALESCE(replace(b.billing_reason, '_', ' '), '—') END,
      'billingReason', b.billing_reason, 'hostedInvoiceUrl', b.hosted_invoice_url,
      'invoicePdfUrl', b.invoice_pdf_url, 'periodStart', ${iso("b.period_start")},
      'periodEnd', ${iso("b.period_end")},
      'lines', COALESCE((
        SELECT json_agg(json_build_object('id', l->>'id', 'description', l->>'description',
            'amountCents', (l->>'amountCents')::numeric::bigint, 'currency', l->>'currency',
            'periodStart', ${iso("(l->>'periodStart')::timestamptz")},
            'periodEnd', ${iso("(l->>'periodEnd')::timestamptz")}, 'proration', (l->'proration')::boolean,
            'discountCents', COALESCE((l->>'discountCents')::numeric::bigint, 0))
          ORDER BY n)
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(b.lines) = 'array' THEN b.lines ELSE '[]' END)
          WITH ORDINALITY AS x(l, n)
        -- invoiceLinesOf: a stored line not of the shape Minutely writes is left out.
        WHERE jsonb_typeof(l) = 'object' AND jsonb_typeof(l->'id') = 'string'
          AND jsonb_typeof(l->'description') IN ('null', 'string')
          AND CASE WHEN jsonb_typeof(l->'amountCents') = 'number'
            THEN (l->>'amountCents')::numeric = trunc((l->>'amountCents')::numeric)
              AND abs((l->>'amountCents')::numeric) <= 9007199254740991
            ELSE false END
          AND jsonb_typeof(l->'currency') = 'string' AND jsonb_typeof(l->'proration') = 'boolean'
          -- Lines stored before coupons have no discountCents (nothing taken off); any other kind is left out.
          AND CASE COALESCE(jsonb_typeof(l->'discountCents'), 'null')
            WHEN 'null' THEN true
            WHEN 'number' THEN (l->>'discountCents')::numeric = trunc((l->>'discountCents')::numeric)
              AND abs((l->>'discountCents')::numeric) <= 9007199254740991
            ELSE false END
          AND (jsonb_typeof(l->'periodStart') = 'null' OR (jsonb_typeof(l->'periodStart') = 'string'
            AND l->>'periodStart' ~ '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$'))
          AND (jsonb_typeof(l->'periodEnd') = 'null' OR (jsonb_typeof(l->'periodEnd') = 'string'
            AND l->>'periodEnd' ~ '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$'))
      ), '[]'))
    ORDER BY b.issued_at DESC, b.number DESC NULLS LAST, b.stripe_invoice_id DESC) AS list
  FROM (
    SELECT * FROM billing_history WHERE account_id = (SELECT account_id FROM viewer)
    ORDER BY issued_at DESC, number DESC NULLS LAST, stripe_invoice_id DESC LIMIT ${INVOICES}
  ) b
),
catalog AS (
  SELECT json_agg(json_build_object('id', q.id, 'name', q.name) ORDER BY q.rn) AS list,
    CASE WHEN count(*) <= 1 THEN COALESCE(max(q.name), '')
      ELSE string_agg(q.name, ', ' ORDER BY q.rn) FILTER (WHERE q.rn < q.n) || ' and '
        || max(q.name) FILTER (WHERE q.rn = q.n) END AS offered
  FROM (
    SELECT p.id, p.name, row_number() OVER (ORDER BY p.sort_order, p.name) AS rn, count(*) OVER () AS n
    FROM plan p WHERE p.active AND p.analytics_access
  ) q
),
outlook AS (
  SELECT f.*, e.elapsed, e.elapsed >= ${MIN_FORECAST_ELAPSED_MS} AND e.elapsed < f.len_ms AS extrapolated,
    CASE WHEN e.elapsed >= ${MIN_FORECAST_ELAPSED_MS} AND e.elapsed < f.len_ms
      THEN div(f.used::numeric * f.len_ms + e.elapsed - 1, e.elapsed)::bigint ELSE f.used END AS projected
  FROM facts f CROSS JOIN LATERAL (SELECT least(greatest(f.since_ms, 0), f.len_ms) AS elapsed) e
  WHERE f.grants
),
advice AS (
  SELECT o.*, ${costAt("o", "o.projected")} AS cost, (o.over IS NOT NULL OR o.projected <= o.lim) AS feasible,
    o.over IS NULL AND o.used >= o.lim AS cap_reached,
    NOT o.extrapolated AND o.elapsed < o.len_ms AS too_early,
    'At this pace you will use ' || ${num("o.projected")} || ' of ' || ${num("o.lim")} || ' minutes' AS pace,
    a.name AS a_name, a.name_key AS a_key, a.price AS a_price, a.cost AS a_cost,
    c.name AS c_name, c.price AS c_price
  FROM outlook o
  LEFT JOIN LATERAL (${cheapest("o.projected", "p.currency = o.currency AND (p.name_key = o.name_key OR p.price <> o.price)")}) a ON true
  LEFT JOIN LATERAL (${cheapest("greatest(o.used, o.lim) + 1", "p.currency = o.currency AND p.name_key <> o.name_key")}) c ON true
),
advised AS (
  SELECT a.*,
    CASE WHEN a.a_name IS NULL OR a.a_key = a.name_key THEN 'stay'
      WHEN a.feasible AND a.cost - a.a_cost <= 0 THEN 'stay'
      WHEN a.a_price > a.price THEN 'upgrade' ELSE 'downgrade' END AS kind,
    CASE WHEN a.a_name IS NULL OR a.a_key = a.name_key THEN CASE WHEN a.feasible
        THEN a.pace || '; ' || a.plan_name || ' remains your best option.'
        ELSE a.pace || ', more than ' || a.plan_name || ' allows; no available package covers that usage.' END
      WHEN NOT a.feasible THEN a.pace || ', more than ' || a.plan_name || ' allows; ' || a.a_name
        || ' covers it for ' || ${moneyText("a.a_cost", "a.currency")} || ' a month.'
      WHEN a.cost - a.a_cost <= 0 THEN a.pace || '; ' || a.plan_name || ' remains your best option.'
      ELSE a.pace || '; ' || a.a_name || ' would save ' || ${moneyText("a.cost - a.a_cost", "a.currency")}
        || ' a month.' END AS message
  FROM advice a
),
forecast AS (
  SELECT json_build_object('projectedMinutes', a.projected,
    'elapsedFraction', a.elapsed::float8 / a.len_ms::float8, 'extrapolated', a.extrapolated,
    'minutesLimit', a.lim, 'projectedMinutesOver', greatest(a.projected - a.lim, 0),
    'projectedOverageCost', ${money("CASE WHEN a.over IS NULL THEN 0 ELSE greatest(a.projected - a.lim, 0) * a.over END", "a.currency")},
    'projectedMonthlyCost', ${money("a.cost", "a.currency")},
    'projectedToHitCap', a.over IS NULL AND a.projected > a.lim, 'capReached', a.cap_reached,
    'tooEarly', a.too_early,
    'advice', CASE
      WHEN a.cap_reached AND a.kind <> 'upgrade' THEN json_build_object(
        'kind', CASE WHEN a.c_name IS NULL THEN 'stay' WHEN a.c_price > a.price THEN 'upgrade' ELSE 'downgrade' END,
        'suggestedPlanName', COALESCE(a.c_name, a.plan_name), 'monthlySavings', ${money("0", "a.currency")},
        'message', 'You have used ' || ${num("a.used")} || ' of the ' || ${num("a.lim")} || ' minutes '
          || a.plan_name || ' includes' || CASE WHEN a.c_name IS NULL THEN '; no available package offers more.'
          ELSE '; ' || a.c_name || ' lets you keep calling, for ' || ${moneyText("a.c_price", "a.currency")}
            || ' a month.' END)
      WHEN a.too_early AND a.kind <> 'upgrade' THEN json_build_object('kind', 'stay',
        'suggestedPlanName', a.plan_name, 'monthlySavings', ${money("0", "a.currency")},
        'message', 'So far you have used ' || ${num("a.used")} || ' of ' || ${num("a.lim")}
          || ' minutes; it is too early in the billing period for a forecast.')
      ELSE json_build_object('kind', a.kind,
        'suggestedPlanName', CASE WHEN a.kind = 'stay' THEN a.plan_name ELSE a.a_name END,
        'monthlySavings', ${money("CASE WHEN a.kind <> 'stay' AND a.feasible THEN a.cost - a.a_cost ELSE 0 END", "a.currency")},
        'message', a.message) END) AS value
  FROM advised a
)
SELECT json_build_object(
  'user', json_build_object('id', v.user_id, 'email', v.email, 'name', v.name),
  'greeting', CASE WHEN fs.at IS NULL THEN 'new'
    WHEN v.session_started_at <= fs.at AND ${ms("v.wall")} - ${ms("fs.at")} < ${NEW_CUSTOMER_MS} THEN 'new'
    ELSE 'returning' END,
  'account', json_build_object('id', acct.id, 'name', acct.name),
  'subscription', CASE WHEN c.id IS NULL THEN json_build_object('status', 'none', 'statusLabel', 'No subscription',
      'grantsAccess', false, 'needsPaymentAttention', false, 'package', NULL, 'currentPeriodStart', NULL,
      'currentPeriodEnd', NULL, 'cancelAtPeriodEnd', false, 'scheduledChange', NULL, 'withdrawnChange', NULL,
      'pause', NULL, 'trial', NULL, 'stripeSubscriptionId', NULL)
    ELSE json_build_object('status', c.status,
      'statusLabel', CASE WHEN c.paused THEN 'Paused' ELSE CASE c.status WHEN 'incomplete' THEN 'Incomplete' WHEN 'incomplete_expired' THEN 'Expired'
        WHEN 'trialing' THEN 'Trial' WHEN 'active' THEN 'Active' WHEN 'past_due' THEN 'Past due'
        WHEN 'unpaid' THEN 'Unpaid' WHEN 'canceled' THEN 'Canceled' WHEN 'paused' THEN 'Paused' ELSE 'Unknown' END END,
      'grantsAccess', c.grants, 'needsPaymentAttention', c.needs_payment,
      'package', json_build_object('id', c.plan_id, 'name', c.plan_name,
        'monthlyPrice', ${money("c.price", "c.currency")}),
      'currentPeriodStart', ${iso("c.current_period_start")}, 'currentPeriodEnd', ${iso("c.current_period_end")},
      'cancelAtPeriodEnd', c.cancel_at_period_end,
      'scheduledChange', (SELECT json_build_object('packageId', p.id, 'packageName', p.name,
          'effectiveAt', ${iso("c.scheduled_change_at")})
        FROM plan p WHERE p.id = c.scheduled_plan_id AND c.scheduled_change_at IS NOT NULL),
      'withdrawnChange', (SELECT json_build_object('packageId', p.id, 'packageName', p.name)
        FROM plan p WHERE c.cancel_at_period_end AND p.id = c.resume_scheduled_plan_id),
      'pause', CASE WHEN c.pause_behavior IS NULL THEN NULL ELSE json_build_object(
        'startsAt', ${iso("c.pause_starts_at")}, 'resumesAt', ${iso("c.pause_resumes_at")}, 'paused', c.paused) END,
      -- The domain's trialEndingSoon: the trial's end is ahead, 3 days away or less, at the account's now.
      'trial', CASE WHEN c.status = 'trialing' AND c.trial_end IS NOT NULL THEN json_build_object(
        'startedAt', CASE WHEN c.trial_start IS NULL THEN NULL ELSE ${iso("c.trial_start")} END,
        'endsAt', ${iso("c.trial_end")},
        'endingSoon', ${ms("c.trial_end")} > ${ms("c.now")} AND ${ms("c.trial_end")} - ${ms("c.now")} <= 259200000,
        'cardOnFile', c.card_on_file) END,
      'stripeSubscriptionId', c.stripe_subscription_id) END,
  'needsPackageSelection', NOT COALESCE(c.grants, false),
  'usage', CASE WHEN f.id IS NULL THEN NULL ELSE json_build_object(
    'minutesUsed', f.used, 'minutesLimit', f.lim, 'minutesRemaining', greatest(f.lim - f.used, 0),
    'usagePercentage', CASE WHEN f.lim = 0 THEN CASE WHEN f.used = 0 THEN 0 ELSE 100 END::float8
      ELSE div(2000 * f.used::numeric + f.lim, 2 * f.lim::numeric)::float8 / 10 END,
    'period', json_build_object('start', ${iso("f.ps")}, 'end', ${iso("f.pe")}), 'asOf', ${iso("f.now")},
    'plan', json_build_object('id', f.plan_id, 'name', f.plan_name), 'status', f.status,
    'accessGranted', f.grants, 'calls', f.calls, 'minutesReserved', f.held,
    'overage', json_build_object('policy', CASE WHEN f.over IS NULL THEN 'hard_cap' ELSE 'billed' END,
      'pricePerMinute', CASE WHEN f.over IS NULL THEN NULL ELSE ${money("f.over", "f.currency")} END,
      'minutes', CASE WHEN f.over IS NULL THEN 0 ELSE greatest(f.used - f.lim, 0) END,
      'cost', ${money("CASE WHEN f.over IS NULL THEN 0 ELSE greatest(f.used - f.lim, 0) * f.over END", "f.currency")},
      'reportedMinutes', f.reported,
      'overCapMinutes', CASE WHEN f.over IS NULL THEN greatest(f.used - f.lim, 0) ELSE 0 END),
    'lateEvents', json_build_object('calls', f.late_calls, 'minutes', f.late_minutes)) END,
  'daily', COALESCE((SELECT list FROM daily), '[]'),
  'agents', json_build_object('active', g.active, 'total', g.total,
    'allowed', CASE WHEN c.grants THEN c.agents_allowed ELSE 0 END),
  'alerts', COALESCE((SELECT list FROM alerts), '[]'),
  'invoices', COALESCE((SELECT list FROM invoices), '[]'),
  'entitlements', CASE WHEN c.grants THEN json_build_object('hasAccess', true, 'analytics', c.analytics_access,
      'apiAccess', c.api_access, 'callMinutesLimit', c.lim, 'agentsAllowed', c.agents_allowed,
      'overage', CASE WHEN c.over IS NULL THEN 'hard_cap' ELSE 'billed' END)
    ELSE json_build_object('hasAccess', false, 'analytics', false, 'apiAccess', false, 'callMinutesLimit', 0,
      'agentsAllowed', 0, 'overage', 'hard_cap') END,
  -- A paused period bills nothing and takes no calls: no forecast of it; nor of a trial's (not billed).
  'forecast', CASE WHEN c.paused OR (c.status = 'trialing' AND c.trial_end IS NOT NULL) THEN NULL
    ELSE (SELECT value FROM forecast) END,
  'analyticsPackages', COALESCE(cat.list, '[]'),
  'quickActions', json_build_array(
    json_build_object('id', 'packages', 'label', 'Subscription & Packages',
      'description', CASE WHEN COALESCE(c.grants, false) THEN 'Compare packages, upgrade now or downgrade at renewal.'
        ELSE 'Choose a package to start calling.' END,
      'path', '/packages', 'urgent', NOT COALESCE(c.grants, false)),
    json_build_object('id', 'billing', 'label', 'Billing',
      'description', CASE WHEN COALESCE(c.needs_payment, false) THEN 'Your last payment failed: update your card.'
        ELSE 'Invoices, renewal and cancellation.' END,
      'path', '/billing', 'urgent', COALESCE(c.needs_payment, false)),
    json_build_object('id', 'agents', 'label', 'Agents',
      'description', ${num("g.active")} || ' of ' || ${num("CASE WHEN c.grants THEN c.agents_allowed ELSE 0 END")}
        || ' active agents.',
      'path', '/agents', 'urgent', false),
    json_build_object('id', 'usage', 'label', 'Usage', 'description', 'Minutes this period, alerts and thresholds.',
      'path', '/usage', 'urgent', false),
    json_build_object('id', 'analytics', 'label', 'Analytics',
      'description', CASE WHEN c.grants AND c.analytics_access THEN 'Minutes by agent, by direction and by day.'
        WHEN cat.offered <> '' THEN 'Included with ' || cat.offered || '.'
        ELSE 'Not included in your package.' END,
      'path', '/analytics', 'urgent', false))
)::text AS dashboard
FROM viewer v
JOIN account acct ON acct.id = v.account_id
CROSS JOIN agents g
CROSS JOIN catalog cat
CROSS JOIN LATERAL (SELECT min(s.created_at) AS at FROM subs s) fs
LEFT JOIN cur c ON true
LEFT JOIN facts f ON true`;

/** The name the statement is prepared under, once per pooled connection. */
const STATEMENT = "bench_dashboard_floor";

/**
 * The dashboard of the account signed in with session `token` as JSON text, or null when the session
 * does not exist, has expired or its user has no account. `now` is the clock the service reads. A named
 * prepared statement: each connection parses it once, and PostgreSQL keeps its plan (a generic plan after
 * five runs), as a hand-written hot path would; planned afresh each time, this statement (its period is
 * known only once it runs, so every usage_event partition is planned) took longer than the service.
 */
export async function dashboardFloor(pool: pg.Pool, token: string, now: Date): Promise<string | null> {
  const result = await pool.query<{ dashboard: string }>({
    name: STATEMENT,
    text: DASHBOARD_FLOOR_SQL,
    values: [token, now],
  });
  return result.rows[0]?.dashboard ?? null;
}
