-- The gaps between the features of a boundary layer (land no feature claims, enclosed by
-- features), for the holes check of an import (sql/queries/quality_holes.sql).
--
-- They are the interior rings of the union of the features' outer shells. Built as one union,
-- every sliver between two neighbours is a ring that the cascade merges again at every level,
-- all the way up to the island it lies on: at national size (83 265 desa, a few hundred
-- thousand slivers) that union ran for more than 28 minutes at 2.3 GiB and did not finish.
-- Here the union is made level by level, and each level keeps only outlines:
--   * level 0 takes the shells of every part, numbered along a Z-order curve (the geohash of the
--     centre of its box), and unions them in groups of `fan` consecutive numbers;
--   * the interior rings of each group's union are gap candidates; the shells of its outputs
--     (rings dropped) go up to the next level, grouped `fan` at a time again, until one group
--     is left.
-- A candidate ring of a group can still be filled by the inputs of other groups at that level
-- (a neighbour reaching in, an enclave) or by another output of its own group (an island in a
-- lake): what is left after taking their shells away is a gap of the whole union, each of its
-- pieces bounded by shells. Every gap is found at the first level whose
-- union encloses it; where two groups at that level both enclose it (one group's union lies in
-- a ring of another's), it is found twice and kept once (same point on surface, to 1e-9°).
-- Candidates to fill a ring are found by distance (ST_DWithin, 0), not ST_Intersects, whose
-- full relate throws "side location conflict" on the degenerate slivers a national layer has.
-- Creates and drops temporary tables, so it needs a read-write transaction.
CREATE FUNCTION boundary_shell_gaps(layer regclass, fan int DEFAULT 16)
RETURNS SETOF geometry
LANGUAGE plpgsql VOLATILE
-- The plans' costs are far above what they do (set-returning geometry functions): JIT compiled
-- for 0.6 s to run 20 ms on Bandung.
SET jit = off
AS $fn$
DECLARE
    groups bigint;
BEGIN
    EXECUTE format($q$
        CREATE TEMP TABLE boundary_gap_in AS
        SELECT row_number() OVER (ORDER BY ST_GeoHash(ST_Centroid(ST_Envelope(p.geom)), 12)) - 1
                   AS grp,
               ST_MakePolygon(ST_ExteriorRing(p.geom)) AS g
        FROM %s f, ST_Dump(f.geom) p
        WHERE NOT ST_IsEmpty(p.geom)$q$, layer);
    CREATE TEMP TABLE boundary_gap_found (h geometry);
    LOOP
        CREATE INDEX ON boundary_gap_in USING gist (g);
        ANALYZE boundary_gap_in;
        CREATE TEMP TABLE boundary_gap_out AS
        SELECT row_number() OVER () AS id, grp, (ST_Dump(u)).geom AS g
        FROM (SELECT grp / fan AS grp,
                     CASE WHEN count(*) = 1 THEN (array_agg(g))[1] ELSE ST_Union(g) END AS u
              FROM boundary_gap_in
              GROUP BY grp / fan) s;
        CREATE INDEX ON boundary_gap_out (grp);
        ANALYZE boundary_gap_out;
        INSERT INTO boundary_gap_found
        SELECT d.geom
        FROM boundary_gap_out o
        CROSS JOIN LATERAL ST_DumpRings(o.g) r
        CROSS JOIN LATERAL (
            SELECT ST_Union(g) AS fill
            FROM (SELECT i.g
                  FROM boundary_gap_in i
                  WHERE i.grp / fan <> o.grp AND ST_DWithin(i.g, r.geom, 0)
                  UNION ALL
                  SELECT ST_MakePolygon(ST_ExteriorRing(s.g))
                  FROM boundary_gap_out s
                  WHERE s.grp = o.grp AND s.id <> o.id AND ST_DWithin(s.g, r.geom, 0)) x
        ) f
        CROSS JOIN LATERAL ST_Dump(CASE WHEN f.fill IS NULL THEN r.geom
                                        ELSE ST_CollectionExtract(ST_Difference(r.geom, f.fill), 3)
                                   END) d
        WHERE r.path[1] > 0 AND NOT ST_IsEmpty(d.geom);
        SELECT count(DISTINCT grp) INTO groups FROM boundary_gap_out;
        DROP TABLE boundary_gap_in;
        EXIT WHEN groups <= 1;
        CREATE TEMP TABLE boundary_gap_in AS
        SELECT grp, ST_MakePolygon(ST_ExteriorRing(g)) AS g FROM boundary_gap_out;
        DROP TABLE boundary_gap_out;
    END LOOP;
    DROP TABLE boundary_gap_out;
    RETURN QUERY
        SELECT DISTINCT ON (round(ST_X(p)::numeric, 9), round(ST_Y(p)::numeric, 9)) h
        FROM (SELECT h, ST_PointOnSurface(h) AS p FROM boundary_gap_found) x
        ORDER BY round(ST_X(p)::numeric, 9), round(ST_Y(p)::numeric, 9);
    DROP TABLE boundary_gap_found;
END
$fn$;
