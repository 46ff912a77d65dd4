-- Prior authorization workflow: submit (standard 72 h, expedited 24 h), request information, approve,
-- deny, withdraw, expire, overdue; adjudication honours an approved PA within its dates and quantity.
BEGIN;
SELECT plan(22);
SELECT tap.setup_adjudication();
SELECT tap.add_member('PA1', 'TCOMM', '1970-01-01', 'F', '2025-01-01');
SELECT tap.add_member('PA2', 'TCOMM', '1970-01-01', 'M', '2025-01-01');

CREATE TEMP TABLE pa (n int, j jsonb) ON COMMIT DROP;
INSERT INTO pa VALUES (1, api.pa_submit('PA1', '01', '99999000601', '1000000012', 'standard', '2025-03-01 10:00+00'));
INSERT INTO pa VALUES (2, api.pa_submit('PA2', '01', '99999000601', '1000000012', 'expedited', '2025-03-01 10:00+00'));
CREATE FUNCTION pg_temp.pa(
    p_n int
) RETURNS text LANGUAGE sql AS $$ SELECT j ->> 'prior_authorization_number' FROM pa WHERE n = p_n $$;

SELECT is((
    SELECT j ->> 'status' FROM pa
    WHERE n = 1
), 'received', 'a new request is received');
SELECT is(
    (
        SELECT (j ->> 'due_at')::timestamptz FROM pa
        WHERE n = 1
    ), '2025-03-04 10:00+00'::timestamptz,
    'a standard request is due 72 hours after receipt'
);
SELECT is(
    (
        SELECT (j ->> 'due_at')::timestamptz FROM pa
        WHERE n = 2
    ), '2025-03-02 10:00+00'::timestamptz,
    'an expedited request is due 24 hours after receipt'
);
SELECT ok((SELECT pg_temp.pa(1) ~ '^PA[0-9]{9}$'), 'PA numbers are PA and nine digits (11 characters, 498-PY)');
SELECT is(
    (SELECT array_agg(pa_number ORDER BY due_at) FROM claims.overdue_prior_authorizations('2025-03-03 12:00+00')),
    ARRAY[pg_temp.pa(2)]::varchar[], 'on March 3 at noon only the expedited request is overdue'
);

SELECT is(
    api.pa_request_information(pg_temp.pa(1), 'need chart notes', '2025-03-02 09:00+00') ->> 'status', 'pended_info',
    'more information requested: pended_info'
);
SELECT is(
    api.pa_information_received(pg_temp.pa(1), '2025-03-02 15:00+00') ->> 'status', 'in_review',
    'information received: in_review'
);
SELECT is(
    (SELECT count(*)::int FROM claims.overdue_prior_authorizations('2025-03-05 00:00+00')), 2,
    'on March 5 both undecided requests are overdue'
);
SELECT throws_ok(
    format($$SELECT api.pa_approve(%L, '2025-03-10', '2025-03-01')$$, pg_temp.pa(1)),
    '22023', NULL, 'an approval ending before it starts is refused'
);
SELECT is(
    api.pa_approve(pg_temp.pa(1), '2025-03-03', '2025-06-30', 4, '2025-03-03 11:00+00') ->> 'status', 'approved',
    'approved for March 3 to June 30, at most 4 units a claim'
);
SELECT throws_ok(
    format($$SELECT api.pa_deny(%L, '')$$, pg_temp.pa(2)), '22023', NULL, 'a denial without a reason is refused'
);
SELECT is(
    api.pa_deny(pg_temp.pa(2), 'step therapy not tried', '2025-03-02 08:00+00') ->> 'status', 'denied',
    'the expedited request is denied with a reason'
);
SELECT throws_ok(
    format($$SELECT api.pa_approve(%L, '2025-03-01', '2025-12-31')$$, pg_temp.pa(2)),
    '55000', NULL, 'a denied request cannot be approved'
);

-- Adjudication honours the approval within its dates and quantity.
SELECT is(
    (
        SELECT c.transaction_response_status::text
        FROM tap.adjudicate(tap.claim('PA1', '99999000601', '2025-03-10', 4, 30, '9001')) AS c
    ),
    'P', 'HUMIRA within the approval is paid'
);
SELECT is(
    (
        SELECT c.prior_authorization_number::text FROM claims.claims AS c
        WHERE c.rx_number = '9001'
    ), pg_temp.pa(1
    ),
    'and carries the PA number'
);
SELECT is(
    (
        SELECT c.reject_codes::text[]
        FROM tap.adjudicate(tap.claim('PA1', '99999000601', '2025-04-12', 8, 30, '9002')) AS c
    ),
    '{64}', 'more than the approved 4 units: 64 Claim Submitted Does Not Match Prior Authorization'
);
SELECT is(
    (
        SELECT c.reject_codes::text[]
        FROM tap.adjudicate(tap.claim('PA1', '99999000601', '2025-07-15', 4, 30, '9003')) AS c
    ),
    '{75}', 'after the approval''s expiration date: 75 again'
);
SELECT is(
    (
        SELECT c.reject_codes::text[]
        FROM tap.adjudicate(tap.claim('PA2', '99999000601', '2025-03-10', 4, 30, '9004')) AS c
    ),
    '{75}', 'a denied PA does not pay: 75'
);

INSERT INTO pa VALUES (3, api.pa_submit('PA2', '01', '99999000601', '1000000012', 'standard', '2025-05-01 10:00+00'));
SELECT is(api.pa_withdraw(pg_temp.pa(3), '2025-05-02 10:00+00') ->> 'status', 'withdrawn', 'withdrawn on request');
SELECT is(claims.expire_prior_authorizations('2025-07-01'), 1, 'on July 1 the approval of June 30 expires');
SELECT
    is((
        SELECT status FROM claims.prior_authorizations
        WHERE pa_number = pg_temp.pa(1)
    ), 'expired', 'its status is expired');
SELECT is(
    (
        SELECT array_agg(e.to_status ORDER BY e.prior_authorization_event_id)
        FROM claims.prior_authorization_events AS e
        INNER JOIN claims.prior_authorizations AS a ON e.prior_authorization_id = a.prior_authorization_id
        WHERE a.pa_number = pg_temp.pa(1)
    ),
    ARRAY['received', 'pended_info', 'in_review', 'approved', 'expired'], 'every state change is an event'
);

SELECT * FROM finish();
ROLLBACK;
