-- IMPRESS-Norway general criteria, evaluated in DuckDB SQL: an implementation written from
-- /work/shared/impress-norway.md independently of eligo's engine (see README.md in this folder).
--
-- Input: views person, diagnosis, measurement, observation, treatment, molecular_test, variant
-- (registered by evaluate.py with every column of the extract contract), and the as-of date in
-- the variable `as_of` (SET VARIABLE as_of = DATE 'YYYY-MM-DD').
-- Output: one row per person: person_id, then one VARCHAR per criterion id with the words
-- pass / fail / unknown / n/a. I7 (cohort matching) is not evaluated.
--
-- Conventions used throughout (spec, "Conventions"):
--   * idx = person.index_date, else the as-of date; records dated after idx are never used;
--     "within D days" is idx - D <= date <= idx.
--   * "latest" = max over the struct {date, badness}: the greatest date, and on that date the
--     record least favourable to eligibility (badness = the value for an upper bound, minus the
--     value for a lower bound, 1 for the yes/no answer that fails, progressive > stable > none).
--   * records out of domain (no value, negative lab value, grade outside 0..5, text outside its
--     listed values, unit not convertible) are dropped before "latest" is taken.

WITH
-- Patients and their index date. ------------------------------------------------------------
persons AS (
    SELECT
        person_id,
        sex,
        birth_year,
        CAST(death_date AS DATE) AS death_date,
        COALESCE(CAST(index_date AS DATE), CAST(getvariable('as_of') AS DATE)) AS idx
    FROM person
),

-- Diagnoses <= idx, ICD-10 normalized (upper case, dot removed, trimmed). c3/c4: the first 3/4
-- characters used by range comparisons (null when the code is shorter). ------------------------
dx AS (
    SELECT
        person_id,
        date,
        idx,
        code,
        CASE WHEN length(code) >= 3 THEN left(code, 3) END AS c3,
        CASE WHEN length(code) >= 4 THEN left(code, 4) END AS c4
    FROM (
        SELECT
            d.person_id,
            CAST(d.date AS DATE) AS date,
            p.idx,
            trim(replace(upper(d.icd10), '.', '')) AS code
        FROM diagnosis AS d
        JOIN persons AS p USING (person_id)
        WHERE CAST(d.date AS DATE) <= p.idx
    )
),

-- Primary cancer (Conventions): the latest diagnosis <= idx in C00-C97, not C44, not C77-C79;
-- ties on the date: the lowest code. --------------------------------------------------------
primary_by_date AS (
    SELECT person_id, date, min(code) AS code
    FROM dx
    WHERE c3 BETWEEN 'C00' AND 'C97'
      AND c3 <> 'C44'
      AND c3 NOT BETWEEN 'C77' AND 'C79'
    GROUP BY person_id, date
),
primary_cancer AS (
    -- one row per (person, date) above, so arg_max is deterministic
    SELECT
        person_id,
        arg_max(code, date) AS code,
        left(arg_max(code, date), 3) AS c3
    FROM primary_by_date
    GROUP BY person_id
),

-- Diagnosis events per patient. ------------------------------------------------------------
dx_events AS (
    SELECT
        person_id,
        -- I1b: any metastasis C77-C79 <= idx
        bool_or(c3 BETWEEN 'C77' AND 'C79') AS metastasis,
        -- I4e/I4f: liver metastases C78.7 <= idx raise the AST/ALT limit to 5 x ULN
        bool_or(starts_with(code, 'C787')) AS liver_metastasis,
        -- E2c: brain metastases C79.3 <= idx (unknown when no brain-mets-status)
        bool_or(starts_with(code, 'C793')) AS brain_metastasis,
        -- E3: I20.0, I47-I49, I50 within 180 d
        bool_or(date >= idx - 180
                AND (starts_with(code, 'I200') OR c3 BETWEEN 'I47' AND 'I50')) AS e3_event,
        -- E5: I61, I63, I64, G45, I21, I22 within 122 d
        bool_or(date >= idx - 122
                AND c3 IN ('I61', 'I63', 'I64', 'G45', 'I21', 'I22')) AS e5_event,
        -- E6: K92.0-K92.2, K25.0, K25.4, K26.0, K26.4, K27.0, K27.4, K28.0, K28.4 within 30 d
        bool_or(date >= idx - 30
                AND (c4 BETWEEN 'K920' AND 'K922'
                     OR c4 IN ('K250', 'K254', 'K260', 'K264',
                               'K270', 'K274', 'K280', 'K284'))) AS e6_event
    FROM dx
    GROUP BY person_id
),

-- Observations <= idx, valid values only, with their badness (see the header). -------------
obs AS (
    SELECT
        o.person_id,
        o.code,
        CAST(o.date AS DATE) AS date,
        p.idx,
        CASE
            -- numeric grades 0..5: higher is worse (I2 ECOG <= 2, E2a > 2, E2b >= 3 fail)
            WHEN o.code IN ('89247-1', 'ctcae-max-grade', 'neuropathy-grade')
                THEN CASE WHEN o.value_num BETWEEN 0 AND 5 THEN CAST(o.value_num AS DOUBLE) END
            -- I1b: local fails, locally-advanced/metastatic pass
            WHEN o.code = 'extent'
                THEN CASE o.value_text WHEN 'local' THEN 1
                                       WHEN 'locally-advanced' THEN 0
                                       WHEN 'metastatic' THEN 0 END
            -- I1c, I5: false is the failing answer
            WHEN o.code IN ('std-tx-exhausted', 'recist-measurable')
                THEN CASE o.value_text WHEN 'false' THEN 1 WHEN 'true' THEN 0 END
            -- E12: true is the failing answer
            WHEN o.code IN ('pregnant', 'nursing')
                THEN CASE o.value_text WHEN 'true' THEN 1 WHEN 'false' THEN 0 END
            -- E2c: progressive > stable > none
            WHEN o.code = 'brain-mets-status'
                THEN CASE o.value_text WHEN 'progressive' THEN 2
                                       WHEN 'stable' THEN 1
                                       WHEN 'none' THEN 0 END
        END AS badness
    FROM observation AS o
    JOIN persons AS p USING (person_id)
    WHERE o.code IN ('89247-1', 'ctcae-max-grade', 'neuropathy-grade', 'extent',
                     'std-tx-exhausted', 'recist-measurable', 'pregnant', 'nursing',
                     'brain-mets-status')
      AND CAST(o.date AS DATE) <= p.idx
),
obs_latest AS (
    SELECT person_id, code, max({'date': date, 'badness': badness}).badness AS badness
    FROM obs
    WHERE badness IS NOT NULL
      -- windows: 30 d for ECOG, toxicity, neuropathy, pregnant, nursing; else any date <= idx
      AND (code IN ('extent', 'std-tx-exhausted', 'recist-measurable', 'brain-mets-status')
           OR date >= idx - 30)
    GROUP BY person_id, code
),
obs_by_person AS (
    SELECT
        person_id,
        max(badness) FILTER (WHERE code = '89247-1') AS ecog,
        max(badness) FILTER (WHERE code = 'ctcae-max-grade') AS ctcae_grade,
        max(badness) FILTER (WHERE code = 'neuropathy-grade') AS neuropathy_grade,
        max(badness) FILTER (WHERE code = 'extent') AS extent_local,
        max(badness) FILTER (WHERE code = 'std-tx-exhausted') AS std_tx_false,
        max(badness) FILTER (WHERE code = 'recist-measurable') AS recist_false,
        max(badness) FILTER (WHERE code = 'pregnant') AS pregnant_true,
        max(badness) FILTER (WHERE code = 'nursing') AS nursing_true,
        max(badness) FILTER (WHERE code = 'brain-mets-status') AS brain_mets_rank
    FROM obs_latest
    GROUP BY person_id
),

-- Measurements within 365 d (the widest window), value present, finite and not negative. ---
meas AS (
    SELECT
        m.person_id,
        m.loinc,
        CAST(m.date AS DATE) AS date,
        p.idx,
        p.sex,
        p.birth_year,
        CAST(m.value AS DOUBLE) AS value,
        trim(m.unit) AS unit,
        CASE WHEN isfinite(m.range_high) AND m.range_high > 0
             THEN CAST(m.range_high AS DOUBLE) END AS uln
    FROM measurement AS m
    JOIN persons AS p USING (person_id)
    WHERE m.loinc IN ('751-8', '718-7', '777-3', '1975-2', '1920-8', '1742-6', '2164-2',
                      '98979-8', '2160-0', '10230-1', '10334-1', '2857-1')
      AND CAST(m.date AS DATE) <= p.idx
      AND CAST(m.date AS DATE) >= p.idx - 365
      AND isfinite(m.value)
      AND m.value >= 0
),
-- Each record converted to the unit its criterion names (null = unit not convertible: dropped),
-- with the criterion it feeds (`analyte`) and the direction of its bound.
lab AS (
    SELECT person_id, date, idx, analyte, value,
           CASE WHEN lower_bound THEN -value ELSE value END AS badness
    FROM (
        SELECT
            person_id, date, idx,
            CASE loinc
                WHEN '751-8' THEN 'anc'          -- I4a
                WHEN '718-7' THEN 'hb'           -- I4b
                WHEN '777-3' THEN 'platelets'    -- I4c
                WHEN '1975-2' THEN 'bilirubin'   -- I4d (value = ratio to ULN)
                WHEN '1920-8' THEN 'ast'         -- I4e (value = ratio to ULN)
                WHEN '1742-6' THEN 'alt'         -- I4f (value = ratio to ULN)
                WHEN '2164-2' THEN 'clearance'   -- I4g
                WHEN '98979-8' THEN 'clearance'  -- I4g
                WHEN '2160-0' THEN 'clearance'   -- I4g (eGFR from creatinine)
                WHEN '10230-1' THEN 'lvef'       -- E4
                WHEN '10334-1' THEN 'ca125'      -- I5 (C56)
                WHEN '2857-1' THEN 'psa'         -- I5 (C61)
            END AS analyte,
            -- bilirubin, AST, ALT are upper bounds (the highest ratio is least favourable);
            -- everything else here is a lower bound
            loinc NOT IN ('1975-2', '1920-8', '1742-6') AS lower_bound,
            CASE
                -- I4a, I4c: 10*9/L; 10*3/uL = 10*9/L; /uL / 1000
                WHEN loinc IN ('751-8', '777-3') THEN
                    CASE unit WHEN '10*9/L' THEN value WHEN '10*3/uL' THEN value
                              WHEN '/uL' THEN value / 1000 END
                -- I4b: g/dL; g/L / 10; mmol/L x 1.611
                WHEN loinc = '718-7' THEN
                    CASE unit WHEN 'g/dL' THEN value WHEN 'g/L' THEN value / 10
                              WHEN 'mmol/L' THEN value * 1.611 END
                -- I4d: value / range_high, else umol/L / 21 (mg/dL x 17.1)
                WHEN loinc = '1975-2' THEN
                    CASE WHEN unit NOT IN ('umol/L', 'mg/dL') THEN NULL
                         WHEN uln IS NOT NULL THEN value / uln
                         WHEN unit = 'umol/L' THEN value / 21
                         ELSE value * 17.1 / 21 END
                -- I4e: U/L; value / range_high, else value / 35
                WHEN loinc = '1920-8' THEN
                    CASE WHEN unit <> 'U/L' THEN NULL
                         WHEN uln IS NOT NULL THEN value / uln
                         ELSE value / 35 END
                -- I4f: U/L; value / range_high, else value / 45
                WHEN loinc = '1742-6' THEN
                    CASE WHEN unit <> 'U/L' THEN NULL
                         WHEN uln IS NOT NULL THEN value / uln
                         ELSE value / 45 END
                -- I4g: creatinine clearance (mL/min or mL/min/1.73 m2) and eGFR
                WHEN loinc = '2164-2' THEN
                    CASE WHEN unit IN ('mL/min', 'mL/min/{1.73_m2}') THEN value END
                WHEN loinc = '98979-8' THEN
                    CASE WHEN unit = 'mL/min/{1.73_m2}' THEN value END
                -- I4g: eGFR by CKD-EPI 2021 from creatinine in mg/dL (umol/L / 88.42);
                -- null (dropped) for sex U or no birth year
                WHEN loinc = '2160-0' THEN
                    142 * pow(least(scr / kappa, 1), alpha)
                        * pow(greatest(scr / kappa, 1), -1.200)
                        * pow(0.9938, age)
                        * CASE sex WHEN 'F' THEN 1.012 ELSE 1 END
                -- E4: %
                WHEN loinc = '10230-1' THEN CASE WHEN unit = '%' THEN value END
                -- I5: CA-125 U/mL, PSA ng/mL
                WHEN loinc = '10334-1' THEN CASE WHEN unit = 'U/mL' THEN value END
                WHEN loinc = '2857-1' THEN CASE WHEN unit = 'ng/mL' THEN value END
            END AS value
        FROM (
            -- creatinine inputs of CKD-EPI 2021 (I4g), null for other analytes
            SELECT
                *,
                CASE WHEN loinc = '2160-0' THEN
                    CASE unit WHEN 'mg/dL' THEN value WHEN 'umol/L' THEN value / 88.42 END
                END AS scr,
                CASE sex WHEN 'F' THEN 0.7 WHEN 'M' THEN 0.9 END AS kappa,
                CASE sex WHEN 'F' THEN -0.241 WHEN 'M' THEN -0.302 END AS alpha,
                year(idx) - birth_year AS age
            FROM meas
        )
    )
),
lab_latest AS (
    SELECT person_id, analyte, max({'date': date, 'badness': badness, 'value': value}).value AS value
    FROM lab
    WHERE value IS NOT NULL
      -- windows: 365 d for LVEF (E4), 30 d for everything else
      AND (analyte = 'lvef' OR date >= idx - 30)
    GROUP BY person_id, analyte
),
lab_by_person AS (
    SELECT
        person_id,
        max(value) FILTER (WHERE analyte = 'anc') AS anc,
        max(value) FILTER (WHERE analyte = 'hb') AS hb,
        max(value) FILTER (WHERE analyte = 'platelets') AS platelets,
        max(value) FILTER (WHERE analyte = 'bilirubin') AS bilirubin_ratio,
        max(value) FILTER (WHERE analyte = 'ast') AS ast_ratio,
        max(value) FILTER (WHERE analyte = 'alt') AS alt_ratio,
        max(value) FILTER (WHERE analyte = 'clearance') AS clearance,
        max(value) FILTER (WHERE analyte = 'lvef') AS lvef,
        max(value) FILTER (WHERE analyte = 'ca125') AS ca125,
        max(value) FILTER (WHERE analyte = 'psa') AS psa
    FROM lab_latest
    GROUP BY person_id
),

-- Treatments started <= idx. -----------------------------------------------------------------
tx_events AS (
    SELECT
        t.person_id,
        -- E2d: enzyme-inducing antiepileptic ongoing at idx or ended within 14 d before
        bool_or(t.atc IN ('N03AF01', 'N03AF02', 'N03AB02', 'N03AA02', 'N03AA03')
                AND (t.end_date IS NULL OR CAST(t.end_date AS DATE) >= p.idx - 14)) AS e2d_event,
        -- E10: anti-cancer drug (L01*, L02*) or radiotherapy ongoing at idx, except
        -- L02AE*/L02BB* with a C61 primary and L02AB01 started >= 30 d before idx
        bool_or((t.end_date IS NULL OR CAST(t.end_date AS DATE) >= p.idx)
                AND ((t.kind = 'drug' AND (starts_with(t.atc, 'L01') OR starts_with(t.atc, 'L02')))
                     OR t.kind = 'radiotherapy')
                AND NOT COALESCE((starts_with(t.atc, 'L02AE') OR starts_with(t.atc, 'L02BB'))
                                 AND pc.c3 = 'C61', false)
                AND NOT COALESCE(t.atc = 'L02AB01'
                                 AND CAST(t.start_date AS DATE) <= p.idx - 30, false)) AS e10_event
    FROM treatment AS t
    JOIN persons AS p USING (person_id)
    LEFT JOIN primary_cancer AS pc USING (person_id)
    WHERE CAST(t.start_date AS DATE) <= p.idx
    GROUP BY t.person_id
),

-- Molecular tests reported <= idx (I6). ------------------------------------------------------
tests AS (
    SELECT
        person_id,
        bool_or(approved_lab IS TRUE) AS any_approved,
        bool_or(approved_lab IS NULL) AS any_approval_missing
    FROM molecular_test
    JOIN persons USING (person_id)
    WHERE CAST(report_date AS DATE) <= idx
    GROUP BY person_id
),

-- Everything per patient. --------------------------------------------------------------------
facts AS (
    SELECT
        p.person_id, p.sex, p.death_date, p.idx,
        pc.c3 AS primary_c3,
        pc.c3 BETWEEN 'C81' AND 'C96' AS haematological,
        COALESCE(de.metastasis, false) AS metastasis,
        COALESCE(de.liver_metastasis, false) AS liver_metastasis,
        COALESCE(de.brain_metastasis, false) AS brain_metastasis,
        COALESCE(de.e3_event, false) AS e3_event,
        COALESCE(de.e5_event, false) AS e5_event,
        COALESCE(de.e6_event, false) AS e6_event,
        o.ecog, o.ctcae_grade, o.neuropathy_grade, o.extent_local, o.std_tx_false,
        o.recist_false, o.pregnant_true, o.nursing_true, o.brain_mets_rank,
        l.anc, l.hb, l.platelets, l.bilirubin_ratio, l.ast_ratio, l.alt_ratio, l.clearance,
        l.lvef, l.ca125, l.psa,
        COALESCE(tx.e2d_event, false) AS e2d_event,
        COALESCE(tx.e10_event, false) AS e10_event,
        COALESCE(mt.any_approved, false) AS any_approved_test,
        COALESCE(mt.any_approval_missing, false) AS any_approval_missing
    FROM persons AS p
    LEFT JOIN primary_cancer AS pc USING (person_id)
    LEFT JOIN dx_events AS de USING (person_id)
    LEFT JOIN obs_by_person AS o USING (person_id)
    LEFT JOIN lab_by_person AS l USING (person_id)
    LEFT JOIN tx_events AS tx USING (person_id)
    LEFT JOIN tests AS mt USING (person_id)
)

SELECT
    person_id,
    -- D0: death_date null or >= idx
    CASE WHEN death_date IS NULL OR death_date >= idx THEN 'pass' ELSE 'fail' END AS "D0",
    -- I1a: a primary cancer exists; missing = fail
    CASE WHEN primary_c3 IS NOT NULL THEN 'pass' ELSE 'fail' END AS "I1a",
    -- I1b: latest extent locally-advanced/metastatic or a C77-C79 diagnosis -> pass;
    --      latest extent local -> fail; missing = unknown
    CASE WHEN extent_local = 0 OR metastasis THEN 'pass'
         WHEN extent_local = 1 THEN 'fail'
         ELSE 'unknown' END AS "I1b",
    -- I1c: latest std-tx-exhausted true pass, false fail; missing = unknown
    CASE std_tx_false WHEN 0 THEN 'pass' WHEN 1 THEN 'fail' ELSE 'unknown' END AS "I1c",
    -- I2: latest ECOG within 30 d <= 2
    CASE WHEN ecog IS NULL THEN 'unknown' WHEN ecog <= 2 THEN 'pass' ELSE 'fail' END AS "I2",
    -- I4a: ANC >= 1.5 x10^9/L; n/a if haematological
    CASE WHEN haematological THEN 'n/a' WHEN anc IS NULL THEN 'unknown'
         WHEN anc >= 1.5 THEN 'pass' ELSE 'fail' END AS "I4a",
    -- I4b: Hb > 9 g/dL; n/a if haematological
    CASE WHEN haematological THEN 'n/a' WHEN hb IS NULL THEN 'unknown'
         WHEN hb > 9 THEN 'pass' ELSE 'fail' END AS "I4b",
    -- I4c: platelets > 75 x10^9/L; n/a if haematological
    CASE WHEN haematological THEN 'n/a' WHEN platelets IS NULL THEN 'unknown'
         WHEN platelets > 75 THEN 'pass' ELSE 'fail' END AS "I4c",
    -- I4d: bilirubin < 1.5 x ULN
    CASE WHEN bilirubin_ratio IS NULL THEN 'unknown'
         WHEN bilirubin_ratio < 1.5 THEN 'pass' ELSE 'fail' END AS "I4d",
    -- I4e: AST < 2.5 x ULN, < 5 x ULN with liver metastases (C78.7)
    CASE WHEN ast_ratio IS NULL THEN 'unknown'
         WHEN ast_ratio < CASE WHEN liver_metastasis THEN 5 ELSE 2.5 END THEN 'pass'
         ELSE 'fail' END AS "I4e",
    -- I4f: ALT likewise
    CASE WHEN alt_ratio IS NULL THEN 'unknown'
         WHEN alt_ratio < CASE WHEN liver_metastasis THEN 5 ELSE 2.5 END THEN 'pass'
         ELSE 'fail' END AS "I4f",
    -- I4g: creatinine clearance / eGFR >= 40
    CASE WHEN clearance IS NULL THEN 'unknown'
         WHEN clearance >= 40 THEN 'pass' ELSE 'fail' END AS "I4g",
    -- I5: recist true -> pass; C56 with CA-125 > 35 or C61 with PSA > 4 -> pass;
    --     recist false -> fail; missing = unknown
    CASE WHEN recist_false = 0 THEN 'pass'
         WHEN (primary_c3 = 'C56' AND ca125 > 35) OR (primary_c3 = 'C61' AND psa > 4) THEN 'pass'
         WHEN recist_false = 1 THEN 'fail'
         ELSE 'unknown' END AS "I5",
    -- I6: an approved-lab test -> pass; else a test with approved_lab null -> unknown; else fail
    CASE WHEN any_approved_test THEN 'pass'
         WHEN any_approval_missing THEN 'unknown'
         ELSE 'fail' END AS "I6",
    -- E2a: latest ctcae-max-grade within 30 d > 2 -> fail; absence = pass
    CASE WHEN ctcae_grade > 2 THEN 'fail' ELSE 'pass' END AS "E2a",
    -- E2b: latest neuropathy-grade within 30 d >= 3 -> fail; absence = pass
    CASE WHEN neuropathy_grade >= 3 THEN 'fail' ELSE 'pass' END AS "E2b",
    -- E2c: latest brain-mets-status progressive -> fail, stable/none -> pass;
    --      no status but C79.3 -> unknown; absence = pass
    CASE WHEN brain_mets_rank = 2 THEN 'fail'
         WHEN brain_mets_rank IN (0, 1) THEN 'pass'
         WHEN brain_metastasis THEN 'unknown'
         ELSE 'pass' END AS "E2c",
    -- E2d: not C71 -> n/a; enzyme-inducing antiepileptic -> fail
    CASE WHEN primary_c3 IS DISTINCT FROM 'C71' THEN 'n/a'
         WHEN e2d_event THEN 'fail' ELSE 'pass' END AS "E2d",
    -- E3: I20.0, I47-I50 within 180 d -> fail
    CASE WHEN e3_event THEN 'fail' ELSE 'pass' END AS "E3",
    -- E4: latest LVEF within 365 d < 40 -> fail
    CASE WHEN lvef < 40 THEN 'fail' ELSE 'pass' END AS "E4",
    -- E5: stroke, TIA, acute MI within 122 d -> fail
    CASE WHEN e5_event THEN 'fail' ELSE 'pass' END AS "E5",
    -- E6: acute GI bleeding within 30 d -> fail
    CASE WHEN e6_event THEN 'fail' ELSE 'pass' END AS "E6",
    -- E10: other anti-cancer therapy ongoing at idx -> fail
    CASE WHEN e10_event THEN 'fail' ELSE 'pass' END AS "E10",
    -- E12: sex M -> n/a; latest pregnant or latest nursing within 30 d true -> fail
    CASE WHEN sex = 'M' THEN 'n/a'
         WHEN pregnant_true = 1 OR nursing_true = 1 THEN 'fail'
         ELSE 'pass' END AS "E12"
FROM facts
ORDER BY person_id
