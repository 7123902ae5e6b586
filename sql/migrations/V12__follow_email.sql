-- Following a proposal by email, without an account (docs/proposals.md "Following"): the
-- followers, the tokens of the links in their mails, and the outbox the sender task drains.
-- An address lives only in proposal_follower, and only as long as it is needed
-- (docs/privacy.md "Email followers"); every other row hangs off it and goes with it.

CREATE TABLE proposal_follower (
    id           bigserial PRIMARY KEY,
    proposal_id  bigint NOT NULL REFERENCES proposal (id) ON DELETE CASCADE,
    email        text NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND position('@' IN email) > 1),
    lang         text NOT NULL CHECK (lang IN ('id', 'en')),
    -- When the address was given (again): an unconfirmed follower expires some days later.
    created_at   timestamptz NOT NULL DEFAULT now(),
    confirmed_at timestamptz
);
-- One follower per address and proposal, whatever the case of the address.
CREATE UNIQUE INDEX proposal_follower_address ON proposal_follower (proposal_id, lower(email));
CREATE INDEX proposal_follower_unconfirmed ON proposal_follower (created_at)
    WHERE confirmed_at IS NULL;

-- The secrets behind the confirm and unsubscribe links: 256 random bits each, stored only as
-- their SHA-256 (like api_token). Made when a mail is sent, so every mail has its own.
CREATE TABLE follower_token (
    token_hash  bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    follower_id bigint NOT NULL REFERENCES proposal_follower (id) ON DELETE CASCADE,
    purpose     text NOT NULL CHECK (purpose IN ('confirm', 'unsubscribe')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX follower_token_follower ON follower_token (follower_id);

-- Mails to send. A status mail is written in the transaction of the status change; the sender
-- claims a due row with FOR UPDATE SKIP LOCKED, sends it and marks it sent before it commits.
CREATE TABLE mail_outbox (
    id              bigserial PRIMARY KEY,
    follower_id     bigint NOT NULL REFERENCES proposal_follower (id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('confirm', 'status')),
    event_id        bigint REFERENCES proposal_event (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    sent_at         timestamptz,
    -- The server refused the mail for good (a 5xx answer): it is not tried again.
    failed_at       timestamptz,
    CHECK ((kind = 'status') = (event_id IS NOT NULL)),
    UNIQUE (follower_id, event_id)
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_follower ON mail_outbox (follower_id);
CREATE INDEX mail_outbox_event ON mail_outbox (event_id) WHERE event_id IS NOT NULL;
