-- The coverage collection: where each program works, with its program and partner.
SELECT c.id, c.code, c.program_code, p.name AS program_name, p.type AS program_type,
       p.partner_code, pa.name AS partner_name, pa.type AS partner_type,
       c.valid_from, c.valid_to, c.radius_m, c.id AS tile_id, c.geom
FROM coverage c
JOIN program p ON p.code = c.program_code
JOIN partner pa ON pa.code = p.partner_code
WHERE c.approved_at IS NOT NULL  -- pending partner entries stay off the public layers (V10)
