-- The newest events of the published proposals of an area ($1: a kelurahan or kecamatan code),
-- for its Atom feed: status changes, including the verification that published each one. Only
-- public proposals and public columns (never the submitter).
SELECT e.id, e.at, e.from_status, e.to_status, p.tracking_code, p.title, p.category,
       p.description, p.kelurahan_code, p.support_count
FROM proposal_event e
JOIN proposal p ON p.id = e.proposal_id
WHERE p.status IN ($PUBLIC_STATUSES)
  AND (p.kelurahan_code = $1 OR p.kecamatan_code = $1)
ORDER BY e.at DESC, e.id DESC
LIMIT $2
