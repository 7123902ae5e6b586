-- Budget allocation scenarios: what an official set (params), what the solver answered (result),
-- draft until adopted, read-only afterwards (enforced here as well as in the API). The funded
-- proposals of each solved scenario are kept as rows so the map can draw them.
-- How scores and allocations are computed: docs/budget.md.

CREATE TABLE budget_scenario (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 120),
    -- The scope of the official who made it (NULL: the whole region); candidates come only from it.
    area_code   text CHECK (area_code ~ '^[0-9]{2}\.[0-9]{2}\.[0-9]{2}(\.[0-9]{4})?$'),
    params      jsonb NOT NULL,
    result      jsonb,
    status      text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'adopted')),
    created_by  bigint NOT NULL REFERENCES app_user (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    solved_at   timestamptz,
    adopted_by  bigint REFERENCES app_user (id),
    adopted_at  timestamptz,
    CONSTRAINT budget_scenario_adopted_is_solved CHECK (status = 'draft' OR (result IS NOT NULL AND adopted_at IS NOT NULL))
);
CREATE INDEX budget_scenario_area_code ON budget_scenario (area_code);

-- An adopted scenario never changes: the last line of defence behind the API's 409.
CREATE FUNCTION budget_scenario_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'adopted' THEN
        RAISE EXCEPTION 'budget scenario % is adopted and read-only', OLD.id USING ERRCODE = 'SG409';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TRIGGER budget_scenario_frozen BEFORE UPDATE OR DELETE ON budget_scenario
    FOR EACH ROW EXECUTE FUNCTION budget_scenario_frozen();

CREATE TABLE budget_funded (
    scenario_id  bigint NOT NULL REFERENCES budget_scenario (id) ON DELETE CASCADE,
    proposal_id  bigint NOT NULL REFERENCES proposal (id),
    cost_idr     bigint NOT NULL CHECK (cost_idr > 0),
    score        double precision NOT NULL,
    PRIMARY KEY (scenario_id, proposal_id)
);
CREATE INDEX budget_funded_proposal_id ON budget_funded (proposal_id);

-- Map layers. budget_funded_scenario: every solved scenario's funded proposals (filter by
-- scenario_id); budget_funded_latest: those of the most recently adopted scenario.
CREATE VIEW budget_funded_scenario AS
SELECT format('%s_%s', f.scenario_id, p.id) AS id, f.scenario_id, s.name AS scenario_name,
       s.status AS scenario_status, p.id AS proposal_id, p.tracking_code, p.title, p.category,
       p.status, p.kelurahan_code, p.kecamatan_code, f.cost_idr, f.score, p.geom
FROM budget_funded f
JOIN budget_scenario s ON s.id = f.scenario_id
JOIN proposal p ON p.id = f.proposal_id;

CREATE VIEW budget_funded_latest AS
SELECT * FROM budget_funded_scenario
WHERE scenario_id = (SELECT id FROM budget_scenario WHERE status = 'adopted'
                     ORDER BY adopted_at DESC, id DESC LIMIT 1);
