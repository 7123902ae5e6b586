-- Accounts, sessions and API tokens; proposal photos, supports, lifecycle fields; the
-- append-only audit log. Credentials are stored only as hashes: argon2id for passwords, SHA-256
-- for session ids and API tokens (both are 256-bit random values, so a fast hash is enough).

CREATE TABLE app_session (
    id_hash     bytea PRIMARY KEY CHECK (length(id_hash) = 32),
    user_id     bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    csrf_token  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX app_session_user_id ON app_session (user_id);

CREATE TABLE api_token (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_token_user_id ON api_token (user_id);

-- support_count is kept by the triggers on proposal_support, never written by the application,
-- so it stays exact under any number of concurrent supports (each one takes the row lock of
-- its proposal for the increment). cycle_year is the Musrenbang cycle the proposal competes in;
-- a carry-over moves it to the next year. Contact fields are private: no public read returns them.
ALTER TABLE proposal
    ADD COLUMN support_count   integer NOT NULL DEFAULT 0 CHECK (support_count >= 0),
    ADD COLUMN merged_into     bigint REFERENCES proposal (id),
    ADD COLUMN status_reason   text CHECK (char_length(status_reason) <= 2000),
    ADD COLUMN cycle_year      integer NOT NULL DEFAULT extract(year FROM now())::integer
                               CHECK (cycle_year BETWEEN 2000 AND 2100),
    ADD COLUMN submitter_name  text CHECK (char_length(submitter_name) <= 120),
    ADD COLUMN submitter_phone text CHECK (char_length(submitter_phone) <= 40),
    ADD CONSTRAINT proposal_not_merged_into_self CHECK (merged_into IS DISTINCT FROM id),
    ADD CONSTRAINT proposal_merged_only_when_digabung CHECK (merged_into IS NULL OR status = 'digabung');
CREATE INDEX proposal_created_at ON proposal (created_at);

CREATE TABLE proposal_photo (
    proposal_id   bigint PRIMARY KEY REFERENCES proposal (id) ON DELETE CASCADE,
    content_type  text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    width         integer NOT NULL CHECK (width > 0),
    height        integer NOT NULL CHECK (height > 0),
    bytes         bytea NOT NULL
);

-- One support per account per proposal: the primary key is the rule.
CREATE TABLE proposal_support (
    proposal_id  bigint NOT NULL REFERENCES proposal (id) ON DELETE CASCADE,
    user_id      bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (proposal_id, user_id)
);
CREATE INDEX proposal_support_user_id ON proposal_support (user_id);

-- A new support counts only on a published proposal. The check runs on the UPDATE that takes
-- the proposal's row lock, so a support racing a merge or rejection sees the final status.
CREATE FUNCTION proposal_support_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    st text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE proposal SET support_count = support_count + 1
         WHERE id = NEW.proposal_id RETURNING status INTO st;
        IF st IS NULL OR st NOT IN ('diverifikasi', 'diprioritaskan', 'dianggarkan', 'dikerjakan', 'selesai') THEN
            RAISE EXCEPTION 'proposal % is not published', NEW.proposal_id USING ERRCODE = 'SG409';
        END IF;
        RETURN NEW;
    ELSE
        UPDATE proposal SET support_count = support_count - 1 WHERE id = OLD.proposal_id;
        RETURN OLD;
    END IF;
END $$;
CREATE TRIGGER proposal_support_count AFTER INSERT OR DELETE ON proposal_support
    FOR EACH ROW EXECUTE FUNCTION proposal_support_count();

-- Every write by anyone, in the transaction of the write. Append-only: UPDATE, DELETE and
-- TRUNCATE are refused by triggers, whoever asks.
CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor_id     bigint REFERENCES app_user (id),
    actor_label  text NOT NULL,
    action       text NOT NULL,
    target_type  text NOT NULL,
    target_id    text,
    before       jsonb,
    after        jsonb
);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
