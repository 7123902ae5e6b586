-- Programs running on $1 that pass the filters ($2 program type, $3 partner type, NULL = all),
-- with their type and partner. A coverage area counts when its program is here and its own dates
-- hold.
SELECT pr.code, pr.type, pr.partner_code
FROM program pr
JOIN partner pa ON pa.code = pr.partner_code
WHERE pr.start_date <= $1 AND pr.end_date >= $1
  AND pr.approved_at IS NOT NULL  -- pending partner entries do not count (V10)
  AND ($2::text IS NULL OR pr.type = $2)
  AND ($3::text IS NULL OR pa.type = $3)
ORDER BY pr.code
