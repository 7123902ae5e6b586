-- The gap analysis measures in an equal-area projection that fits all of Indonesia, and never
-- works on a geometry that its transform made invalid.
--
-- Until now every metric step used EPSG:32748 (UTM 48S). That fits Bandung (area +0.13 % against
-- the geodesic area) but not the country: moved to Papua the same kelurahan measure 50 % too
-- large, and three real kelurahan (Kalimantan Tengah, Sulawesi Utara, Gorontalo) become invalid
-- in it, which aborted a national run. ESRI:54034 (World Cylindrical Equal Area, standard parallel
-- 0, shipped in PostGIS's spatial_ref_sys) keeps areas exact on the WGS 84 ellipsoid anywhere; on
-- the real Bandung kelurahan ST_Area in it differs from the geodesic area by at most 1.4e-5 (mean
-- 1.4e-6, the straight-edge effect), and shapes are stretched by 1/cos(lat), under 2 % for all of
-- Indonesia (6 N to 11 S), so a 500 m hexagon stays a hexagon. docs/gap-analysis.md has the table.
--
-- gap_metric(g): g in ESRI:54034, made valid again if the transform broke it (same dimension
-- kept). IMMUTABLE and STRICT so the planner treats it like ST_Transform.
CREATE FUNCTION gap_metric(g geometry) RETURNS geometry
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN ST_IsValid(t) THEN t
                ELSE ST_CollectionExtract(ST_MakeValid(t), ST_Dimension(t) + 1) END
    FROM ST_Transform(g, 54034) AS t
$$;
